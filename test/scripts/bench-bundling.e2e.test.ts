import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { esbuildOptionsFor, LAMBDA_BUNDLING, LAZY_CREDENTIAL_PROVIDERS } from '../../lib/bundling';
import { loadFixtures } from '../../scripts/bench/fixtures';
import { markableFixtures } from '../../scripts/bench/serve';

const ROOT = path.resolve(__dirname, '..', '..');

describe('Lambda bundling settings', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(path.join(tmpdir(), 'bundling-test-'));
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('translates LAMBDA_BUNDLING into the esbuild options NodejsFunction would run', () => {
    const options = esbuildOptionsFor('/src/handler.ts', '/out/index.js', { FLAG: '"x"' });
    expect(options).toMatchObject({
      entryPoints: ['/src/handler.ts'],
      outfile: '/out/index.js',
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: LAMBDA_BUNDLING.target,
      minify: true,
      sourcemap: false,
      mainFields: ['module', 'main'],
      external: [...LAZY_CREDENTIAL_PROVIDERS],
      define: { FLAG: '"x"' },
    });
  });

  it('bundles the receiver with the AWS SDK inside and without the browser-only bowser', async () => {
    const outfile = path.join(outDir, 'receiver.js');
    const result = await build({ ...esbuildOptionsFor(path.join(ROOT, 'lambda/receiver/handler.ts'), outfile), metafile: true, logLevel: 'error' });
    const output = Object.values(result.metafile.outputs)[0];
    // Inputs that contribute code to the bundle (esbuild lists tree-shaken ones with 0 bytes).
    const inputs = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file);
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/client-sqs/dist-es/'))).toBe(true);
    expect(inputs.filter((input) => input.includes('node_modules/bowser/'))).toEqual([]);
    // Outside the bundle: Node's own modules, and the credential providers the SDK imports only when
    // environment credentials are missing, never statically (a static require would run at init and
    // fail in a Lambda asset, which has no node_modules). test/transformer/bundled-handler.e2e.test.ts
    // runs a bundle with no node_modules in reach and environment credentials, as on Lambda.
    const externals = output.imports.filter((imported) => imported.external && !imported.path.startsWith('node:') && !isBuiltin(imported.path));
    expect(externals.length).toBeGreaterThan(0);
    for (const imported of externals) {
      expect({ path: imported.path, kind: imported.kind, lazy: LAZY_CREDENTIAL_PROVIDERS.some((name) => imported.path === name || imported.path.startsWith(`${name}/`)) }).toEqual({ path: imported.path, kind: 'dynamic-import', lazy: true });
    }
    expect(inputs.filter((input) => LAZY_CREDENTIAL_PROVIDERS.some((name) => input.includes(`node_modules/${name}/`)))).toEqual([]);
  }, 60_000);
});

describe('benchmark event markers', () => {
  it('finds the envelope time in the built-in message of every fixture, so serve deliveries can be told apart', () => {
    const fixtures = loadFixtures();
    const { usable, unusable } = markableFixtures(fixtures);
    expect(unusable).toEqual([]);
    expect(usable).toHaveLength(fixtures.length);
  });
});

function isBuiltin(name: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:module only where a bundle input is checked
  return (require('node:module') as typeof import('node:module')).builtinModules.includes(name.split('/')[0]);
}
