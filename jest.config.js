// Two projects: `unit` (no listening server, no child process: `npm run test:unit`, seconds) and
// `integration` (everything else: real servers and processes on free loopback ports). A unit test
// that starts either fails (__tests__/helpers/unit-guard.ts); a new file is integration unless it
// is in __tests__/unit/ or listed here. .ci/run runs the unit project and a few integration files on
// every other Node version it tests.

/** Unit tests kept beside their topic rather than in __tests__/unit/. */
const unitElsewhere = [
  'aws/secrets',
  'fuzz/events-api.fuzz',
  'fuzz/gateway.fuzz',
  'hardening/host-safety',
  'journal/local-journal',
  'store-contract/memory-store',
].map((name) => `<rootDir>/__tests__/${name}.test.ts`);

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  // The integration tests mostly wait on real servers and child processes: two workers even on a
  // 2-core machine (Jest's default there is one), which keeps CI inside its 30 minutes.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts', ...unitElsewhere],
      setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/unit-guard.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/unit/', ...unitElsewhere],
      // Installs the real servers the suites start, when missing (scripts/test-servers.sh).
      globalSetup: '<rootDir>/scripts/ensure-test-servers.js',
    },
  ],
};
