/**
 * The transformer ships as one esbuild bundle: the user code worker must start from inside that
 * single file (its program is a string, not a file next to the bundle). Bundles
 * lambda/transformer/transform.ts alone into an empty temporary directory and runs user code through it.
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inputFor } from '../support/transformation';

type TransformModule = typeof import('../../lambda/transformer/transform');

let dir: string;
let bundled: TransformModule;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-transform-bundle-'));
  const outfile = path.join(dir, 'transform.js');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, '..', '..', 'lambda', 'transformer', 'transform.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  });
  expect(fs.readdirSync(dir)).toEqual(['transform.js']);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle just built, at a path known only at run time
  bundled = require(outfile) as TransformModule;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('user code runs in its worker from the bundle: loops time out, and the next event is delivered', async () => {
  const transform = bundled.createTransformFromSource(
    `async function handler(webhook) {
       if (webhook.eventType === 'payment.failed') while (true) {}
       if (webhook.eventType === 'refund.failed') { await null; while (true) {} }
       webhook.payload = { text: 'paid ' + webhook.payload.data.payment_id };
       return webhook;
     }`,
    'bundled.js',
    { timeoutMs: 50 },
  );
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow('transformation bundled.js timed out after 50 ms on payment.failed');
  await expect(transform(inputFor('refund.failed'))).rejects.toThrow('transformation bundled.js timed out after 50 ms on refund.failed');
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: 'paid pay_gr4RizvMOXFJ6xca3y2tU' } });
  await transform.close();
});

test('load errors from the bundle keep their file and line', () => {
  expect(() => bundled.createTransformFromSource('var a = 1;\nnull.x;\nfunction handler(w) { return w; }', 'broken.js')).toThrow(
    "broken.js:2: top-level code threw: Cannot read properties of null (reading 'x')",
  );
});
