import { requestPath } from '../../lib/http/request-path';

test('a request target starting with // is a path, never an authority', () => {
  // Resolved against a base, `//x/v1/spaces/b` would be host `x` and path `/v1/spaces/b`: a front
  // proxy's rule on `/v1/...` would not see the request the gateway then routes there.
  expect(requestPath('//x/v1/spaces/b/functions', '')).toMatchObject({
    path: '//x/v1/spaces/b/functions',
  });
  expect(requestPath('//evil/users/1', '/events')).toMatchObject({ status: 404 });
  expect(requestPath('/v1/spaces/a/functions?x=1', '')).toMatchObject({
    path: '/v1/spaces/a/functions',
  });
  expect(requestPath('http://proxy.example/v1/status', '')).toMatchObject({ path: '/v1/status' });
});
