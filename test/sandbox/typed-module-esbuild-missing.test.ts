/** A CDK app without esbuild gets told what to install, not a bare "Cannot find module". */
test('Transformation.fromModule without esbuild names the missing package and the fix', () => {
  jest.isolateModules(() => {
    jest.doMock('esbuild', () => {
      throw new Error("Cannot find module 'esbuild'");
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy inside isolateModules, loaded after the mock above
    const { compileTypedModule } = require('../../lambda/sandbox/typed-module') as typeof import('../../lambda/sandbox/typed-module');
    expect(() => compileTypedModule('transforms/finance.ts')).toThrow(
      /Transformation\.fromModule\("transforms\/finance\.ts"\) needs esbuild .*npm install --save-dev esbuild/,
    );
  });
});
