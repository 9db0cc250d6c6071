import { corsId } from '../../lib';
import { expectRefused, gatewayFixture } from '../helpers/gateway';

const setup = gatewayFixture();

describe('CORS configurations', () => {
  test('created with 0.9 defaults and ID; updated; deleted', async () => {
    const { gateway } = await setup();
    const created = await gateway.createCors({ method: 'get', path: '/test' });
    expect(created).toEqual({
      space: 'default',
      corsId: 'GET%2Ftest',
      method: 'GET',
      path: '/test',
      allowedOrigins: ['*'],
      allowedMethods: ['HEAD', 'GET', 'POST'],
      allowedHeaders: ['Origin', 'Accept', 'Content-Type'],
      allowCredentials: false,
    });
    expect(corsId('GET', '/test')).toBe('GET%2Ftest');
    expect(gateway.getCors({ corsId: 'GET%2Ftest' })).toEqual(created);
    const updated = await gateway.updateCors({
      corsId: 'GET%2Ftest',
      allowedOrigins: ['https://app.example'],
      allowCredentials: true,
      metadata: { app: 'web' },
    });
    expect(updated).toMatchObject({
      allowedOrigins: ['https://app.example'],
      allowCredentials: true,
      method: 'GET',
      path: '/test',
    });
    // Named by method and path instead of ID.
    await gateway.updateCors({ method: 'GET', path: '/test', allowedHeaders: ['X-Token'] });
    expect(gateway.getCors({ corsId: 'GET%2Ftest' }).allowedHeaders).toEqual(['X-Token']);
    expect(gateway.listCors({ metadata: { app: 'web' } })).toEqual([]);
    await gateway.deleteCors({ corsId: 'GET%2Ftest' });
    expect(gateway.listCors()).toEqual([]);
  });

  test.each([['null'], ['https://*'], ['https://*.com'], ['http://*:8080']])(
    'credentials with an origin any site can have (%s) are refused',
    async (origin) => {
      const { gateway, store } = await setup();
      await expectRefused(
        store,
        () =>
          gateway.createCors({
            method: 'GET',
            path: '/x',
            allowedOrigins: [origin],
            allowCredentials: true,
          }),
        { code: 'VALIDATION_FAILED', message: /any site could then make credentialed requests/ },
      );
      // Without credentials, or for a real domain, they stand.
      await gateway.createCors({ method: 'GET', path: '/x', allowedOrigins: [origin] });
      await gateway.createCors({
        method: 'GET',
        path: '/y',
        allowedOrigins: ['https://*.example.com', 'https://app-*.example.co.uk'],
        allowCredentials: true,
      });
    },
  );

  test.each([['__proto__'], ['constructor'], ['toString'], ['']])(
    'a metadata key every object has (%j) is refused: it could never be filtered on',
    async (key) => {
      const { gateway, store } = await setup();
      await expectRefused(
        store,
        () =>
          gateway.createCors({
            method: 'GET',
            path: '/x',
            metadata: JSON.parse(`{${JSON.stringify(key)}: "v"}`),
          }),
        { code: 'VALIDATION_FAILED', message: /cannot have a key named/ },
      );
    },
  );

  test('0.9 messages, nothing changed on refusal', async () => {
    const { gateway, store } = await setup();
    await gateway.createCors({ method: 'POST', path: '/a' });
    await expectRefused(store, () => gateway.createCors({ method: 'POST', path: '/a' }), {
      code: 'ALREADY_EXISTS',
      status: 409,
      message: 'CORS configuration "POST%2Fa" already exists.',
    });
    await expectRefused(store, () => gateway.deleteCors({ corsId: 'GET%2Fa' }), {
      code: 'NOT_FOUND',
      status: 404,
      message: 'CORS configuration "GET%2Fa" not found.',
    });
    await expectRefused(store, () => gateway.updateCors({ corsId: 'POST%2Fa', path: '/b' }), {
      code: 'VALIDATION_FAILED',
      message: "Invalid update. 'path' of existing CORS configuration cannot be updated.",
    });
    await expectRefused(store, () => gateway.createCors({ method: 'GET', path: 'relative' }), {
      code: 'VALIDATION_FAILED',
      message: `CORS configuration doesn't validate. Validation error: "path" must be an absolute path (got "relative").`,
    });
    await expectRefused(
      store,
      () => gateway.createCors({ method: 'GET', path: '/x', allowedOrigins: [] }),
      {
        code: 'VALIDATION_FAILED',
        message: /"allowedOrigins" must be a non-empty array of strings/,
      },
    );
    await expectRefused(store, () => gateway.createCors({ path: '/x' } as never), {
      code: 'VALIDATION_FAILED',
      message: /"method" is required/,
    });
  });
});
