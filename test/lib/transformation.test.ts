/** User code is checked when the app synthesizes, and `_bind` gives the construct what it embeds. */
import * as esbuild from 'esbuild';
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { Duration } from 'aws-cdk-lib';
import { createTransform } from '../../lambda/transformer/transform';
import { USER_CODE_FILE, userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { Transformation } from '../../lib/transformation';
import { EXAMPLES_DIR, inputFor } from '../support/transformation';
import { transform as financeTransform } from '../../examples/typed/finance';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-transform-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('fromFile / fromInline fail at synth', () => {
  test('a syntax error names the file and line', () => {
    const file = writeFile('broken.js', "function handler(webhook) {\n  webhook.payload = { text: 'x' ;\n  return webhook;\n}\n");
    expect(() => Transformation.fromFile(file)).toThrow(`${file}:2: SyntaxError: Unexpected token ';'`);
  });

  test('a missing handler names the file', () => {
    const file = writeFile('nohandler.js', 'function transform(webhook) { return webhook; }\n');
    expect(() => Transformation.fromFile(file)).toThrow(`${file}: no function named "handler" (found nothing)`);
  });

  test('top-level code that throws names the file and line', () => {
    const file = writeFile('toplevel.js', "var x = 1;\nvar fs = require('fs');\nfunction handler(w) { return w; }\n");
    expect(() => Transformation.fromFile(file)).toThrow(`${file}:2: top-level code threw: require is not defined`);
  });

  test('inline code is checked the same way', () => {
    expect(() => Transformation.fromInline('function handler(w) {\n  return w\n  }}')).toThrow(/^inline transformation:3: SyntaxError: Unexpected token '}'/);
    expect(() => Transformation.fromInline('const handler = 42;')).toThrow('inline transformation: no function named "handler" (found a number)');
  });

  test('top-level code that never finishes fails synth with the time limit, also in a promise job', () => {
    const timeout = Duration.millis(100);
    expect(() => Transformation.fromInline('while (true) {}\nfunction handler(w) { return w; }', { timeout })).toThrow(
      'inline transformation: top-level code timed out after 100 ms',
    );
    // Top-level code runs in a short-lived check process, never in this thread: a loop in a promise
    // job cannot abort the synth process even inside AsyncLocalStorage (nodejs/node#38503).
    new AsyncLocalStorage().run('synth', () => {
      expect(() => Transformation.fromInline('Promise.resolve().then(function () { while (true) {} });\nfunction handler(w) { return w; }', { timeout }))
        .toThrow('inline transformation: top-level code timed out after 100 ms');
    });
  });

  test('checking user code at synth loads no worker thread machinery', () => {
    jest.isolateModules(() => {
      jest.doMock('node:worker_threads', () => {
        throw new Error('synth loaded node:worker_threads');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the module inside isolateModules, loaded after the mock above
      const isolated = require('../../lib/transformation') as typeof import('../../lib/transformation');
      expect(() => isolated.Transformation.fromInline('function handler(w) { return w; }')).not.toThrow();
      expect(() => isolated.Transformation.fromInline('const handler = 1;')).toThrow('no function named "handler"');
    });
  });

  test('a file that cannot be read is named', () => {
    expect(() => Transformation.fromFile(path.join(dir, 'missing.js'))).toThrow(`Transformation.fromFile: cannot read ${path.join(dir, 'missing.js')}: ENOENT`);
  });

  test('the timeout must be 1 ms..10 s', () => {
    expect(() => Transformation.fromInline('function handler(w) { return w; }', { timeout: Duration.seconds(11) })).toThrow(
      'Transformation timeout must be 1 ms..10000 ms, got 11000 ms',
    );
  });
});

describe('_bind', () => {
  test('builtin: a spec with the options and no code', () => {
    expect(Transformation.builtin({ maskCustomerEmails: true })._bind('default')).toEqual({
      spec: { kind: 'builtin', options: { maskCustomerEmails: true } },
    });
  });

  test('fromFile: a code spec with the default timeout, the file source and its name for stack traces', () => {
    const file = path.join(EXAMPLES_DIR, 'dashboard', 'sales-feed.js');
    const bound = Transformation.fromFile(file)._bind('sales');
    expect(bound.spec).toEqual({ kind: 'code', codeId: 'sales', timeoutMs: 1000 });
    expect(bound.code).toEqual({ codeId: 'sales', source: `${fs.readFileSync(file, 'utf8')}\n//# sourceURL=sales-feed.js\n` });
  });

  test('fromInline: the timeout option becomes timeoutMs', () => {
    const bound = Transformation.fromInline('function handler(w) { return null; }', { timeout: Duration.millis(250) })._bind('r2');
    expect(bound.spec).toEqual({ kind: 'code', codeId: 'r2', timeoutMs: 250 });
    expect(bound.code?.source).toContain('//# sourceURL=inline-transformation.js');
  });

  test('the construct\'s esbuild define reaches the registry in a real bundle', () => {
    const bound = Transformation.fromInline("function handler(w) { w.payload = { text: 'from the bundle' }; return w; }")._bind('route-x');
    const entry = writeFile('entry.ts', `import { embeddedUserCode } from ${JSON.stringify(path.join(__dirname, '..', '..', 'lambda', 'sandbox', 'registry'))};\nexport const source = embeddedUserCode().get('route-x');\n`);
    const out = esbuild.buildSync({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent',
      define: { __DODO_SLACK_USER_CODE__: JSON.stringify(JSON.stringify({ [bound.code!.codeId]: bound.code!.source })) },
    }).outputFiles[0].text;
    const module = { exports: {} as { source?: string } };
    // The registry requires node:fs and node:path (for the prebundled case below): hand it require.
    const load = vm.runInThisContext(`(function (module, exports, require) {${out}\n})`) as (m: typeof module, exports: object, r: NodeRequire) => void;
    load(module, module.exports, require);
    expect(module.exports.source).toBe(bound.code!.source);
  });

  test('a bundle built without the define (the package\'s prebundled transformer) reads the code from the file beside it', () => {
    const bound = Transformation.fromInline("function handler(w) { w.payload = { text: 'from the file' }; return w; }")._bind('route-y');
    const entry = writeFile('entry-file.ts', `import { embeddedUserCode } from ${JSON.stringify(path.join(__dirname, '..', '..', 'lambda', 'sandbox', 'registry'))};\nexport const source = embeddedUserCode().get('route-y');\n`);
    const bundleDir = fs.mkdtempSync(path.join(dir, 'prebundled-'));
    const outfile = path.join(bundleDir, 'index.js');
    esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent' });
    fs.writeFileSync(path.join(bundleDir, USER_CODE_FILE), JSON.stringify({ [bound.code!.codeId]: bound.code!.source }));
    // A fresh Node process, as Lambda loads it: the module finds the file by its own __dirname.
    const printed = execFileSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(outfile)}).source))`], { encoding: 'utf8' });
    expect(printed).toBe(bound.code!.source);
    fs.rmSync(path.join(bundleDir, USER_CODE_FILE));
    expect(execFileSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(outfile)}).source))`], { encoding: 'utf8' })).toBe('undefined');
  });
});

describe('fromModule (typed)', () => {
  const modulePath = path.join(EXAMPLES_DIR, 'typed', 'finance.ts');

  test('bundles the typed example and runs it with the same result as calling transform directly', async () => {
    const bound = Transformation.fromModule(modulePath)._bind('finance');
    expect(bound.spec).toEqual({ kind: 'code', codeId: 'finance', timeoutMs: 1000 });
    expect(bound.code!.source).not.toMatch(/require\(/);
    const transform = createTransform(bound.spec, userCodeRegistryFrom({ finance: bound.code!.source }));

    for (const eventType of ['payout.success', 'payout.failed', 'refund.succeeded', 'payment.succeeded']) {
      const input = inputFor(eventType, 'msg_typed');
      const expected = await financeTransform(input.envelope as never, { webhookId: 'msg_typed' });
      await expect(transform(input)).resolves.toEqual({ kind: 'message', message: expected });
    }
    await expect(transform(inputFor('dispute.opened'))).resolves.toMatchObject({ kind: 'skip' });
  });

  test('a module without a transform export fails at synth', () => {
    const file = writeFile('noexport.ts', 'export const other = 1;\n');
    expect(() => Transformation.fromModule(file)).toThrow(/noexport\.ts \(bundled\):\d+: top-level code threw: the module exports no function named "transform"/);
  });

  test('a default export is accepted', async () => {
    const file = writeFile('default.ts', "export default function (event: { type: string }) { return { text: 'got ' + event.type }; }\n");
    const bound = Transformation.fromModule(file)._bind('d');
    await expect(createTransform(bound.spec, userCodeRegistryFrom({ d: bound.code!.source }))(inputFor('payout.success')))
      .resolves.toEqual({ kind: 'message', message: { text: 'got payout.success' } });
  });

  test('a syntax error in the module names the file and line', () => {
    const file = writeFile('bad.ts', 'export const transform = (event: unknown) => {\n  return { text: };\n};\n');
    expect(() => Transformation.fromModule(file)).toThrow(new RegExp(`cannot bundle .*bad\\.ts:\\n.*bad\\.ts:2:\\d+: Unexpected "}"`));
  });

  test('a module that needs Node built-ins fails at synth (the sandbox has no require)', () => {
    const file = writeFile('fsuser.ts', "import { readFileSync } from 'node:fs';\nexport const transform = () => ({ text: String(readFileSync) });\n");
    expect(() => Transformation.fromModule(file)).toThrow(/fsuser\.ts \(bundled\):\d+: top-level code threw: Dynamic require of "node:fs" is not supported/);
  });
});
