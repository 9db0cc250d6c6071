/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Installs the real servers the suites start, when missing (scripts/test-servers.sh).
  globalSetup: '<rootDir>/scripts/ensure-test-servers.js',
};
