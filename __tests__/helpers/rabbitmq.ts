// One implementation for the tests and the benchmarks (bench/sources.bench.js): scripts/servers.js.
export { startRabbit, type RunningRabbit } from '../../scripts/servers';
