// Prints one line for a Node version from Jest's --json reports: "Node v22.1.0: N passed, M failed".
// Exits 1 when a test failed or a run ended without its report (it crashed, or lint, types or the
// build stopped `npm test` before Jest).
// Usage: node .ci/count-tests.js <node binary> <what ran> <report.json>...
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');

const [nodeBinary, what, ...reports] = process.argv.slice(2);
const version = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
let passed = 0;
let failed = 0;
const problems = [];
for (const file of reports) {
  if (!existsSync(file)) {
    problems.push(`no report: ${file.replace(/.*\//, '')}`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  if (report.numRuntimeErrorTestSuites > 0) {
    problems.push(`${report.numRuntimeErrorTestSuites} suite(s) failed to run`);
  }
}
const note = problems.length > 0 ? `; ${problems.join('; ')}` : '';
console.log(`Node ${version}: ${passed} passed, ${failed} failed (${what}${note})`);
process.exitCode = failed > 0 || problems.length > 0 ? 1 : 0;
