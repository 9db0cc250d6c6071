// `BENCH_TRACING=1 npm run bench emit-local emit-http`: the benchmarks with tracing on. Registers
// a global OpenTelemetry tracer provider before any gateway is created (so each one traces, the
// `tracing` option left out), whose spans go through a BatchSpanProcessor, as in production, to
// an exporter that discards them: what is measured is the gateway's tracing, not an export.
// BENCH_TRACING=simple: a SimpleSpanProcessor instead (one export call per span);
// BENCH_TRACING=unsampled: a sampler that records nothing (traced, but no span sampled).
const { trace } = require('@opentelemetry/api');
const {
  BasicTracerProvider,
  AlwaysOffSampler,
  BatchSpanProcessor,
  SimpleSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');

/** An exporter that drops what it is given. */
const discard = {
  exported: 0,
  export(spans, done) {
    this.exported += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

const Processor = process.env.BENCH_TRACING === 'simple' ? SimpleSpanProcessor : BatchSpanProcessor;
const sampler = process.env.BENCH_TRACING === 'unsampled' ? new AlwaysOffSampler() : undefined;
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ sampler, spanProcessors: [new Processor(discard)] }),
);

module.exports = { discard };
