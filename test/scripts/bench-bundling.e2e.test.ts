import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { esbuildOptionsFor, LAMBDA_BUNDLING } from '../../lib/bundling';
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
      external: [],
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
    expect(output.imports.filter((imported) => imported.external && !imported.path.startsWith('node:') && !isBuiltin(imported.path))).toEqual([]);
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:module') as typeof import('node:module')).builtinModules.includes(name.split('/')[0]);
}
