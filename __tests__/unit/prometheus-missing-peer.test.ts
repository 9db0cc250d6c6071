// registerPrometheusMetrics without prom-client installed: a typed error that says how to install
// it, never the raw MODULE_NOT_FOUND of a require.
import type { MetricsSource } from '../../lib/metrics/prometheus';

it('throws a ValidationError naming the install when prom-client is missing', async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('prom-client', () => {
      throw Object.assign(new Error("Cannot find module 'prom-client'"), {
        code: 'MODULE_NOT_FOUND',
      });
    });
    // Loaded after the mock, as a host without the peer loads them.
    const { registerPrometheusMetrics } = await import('../../lib/metrics/prometheus');
    const { GatewayError, ValidationError } = await import('../../lib/errors');
    const gateway: MetricsSource = {
      metrics: () => ({}) as ReturnType<MetricsSource['metrics']>,
      functionMetrics: () => [],
      observeAttempts: () => () => {},
    };
    let caught: unknown;
    try {
      registerPrometheusMetrics(gateway);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/npm install prom-client/),
      cause: expect.objectContaining({ code: 'MODULE_NOT_FOUND' }),
    });
  });
  jest.dontMock('prom-client');
});
