/**
 * Two projects, one run: `npm test` runs both. `unit` is the fast loop (`npm run test:unit`);
 * `e2e` holds the suites that start processes, servers, the SQS emulator or esbuild
 * (files named *.e2e.test.ts, next to the tests of the source they exercise).
 * @type {import('jest').Config}
 */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
};

module.exports = {
  testTimeout: 30000,
  projects: [
    { ...project, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['\\.e2e\\.test\\.ts$'] },
    { ...project, displayName: 'e2e', testMatch: ['**/*.e2e.test.ts'] },
  ],
};
