/**
 * Two projects, one run: `npm test` runs both. `unit` is the fast loop (`npm run test:unit`);
 * `e2e` holds the suites that run whole programs as child processes: the CLI, esbuild bundles,
 * the SQS emulator (files named *.e2e.test.ts, next to the tests of the source they exercise).
 * Unit suites may still use a stand-in HTTP server on 127.0.0.1.
 * @type {import('jest').Config}
 */
const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // TypeScript first: bin/dodo-slack.ts sits beside its bin/dodo-slack.js launcher, and tests test the source.
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  transform: {
    '^.+\\.tsx?$': 'ts-jest',
    // @middy/core 6 ships ES modules only; jest's module loader on Node 20 cannot require() them, so compile it to CommonJS.
    '/node_modules/@middy/core/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/core/)'],
};

module.exports = {
  testTimeout: 30000,
  projects: [
    { ...project, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['\\.e2e\\.test\\.ts$'] },
    { ...project, displayName: 'e2e', testMatch: ['**/*.e2e.test.ts'] },
  ],
};
