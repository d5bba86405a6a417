/**
 * bin/dodo-slack.js in a clone: it runs the sources as they are now (rebuilt after an edit, never
 * stale), reuses its bundle while nothing changed, and a source that does not compile is an error
 * naming the file and line. Runs on a copy of the repository's sources, so editing them here
 * touches nothing of the working tree (nor its node_modules/.cache).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cleanEnv, REPO_ROOT } from './cli-harness';

let clone: string;
let cacheDir: string;

beforeAll(() => {
  clone = mkdtempSync(path.join(tmpdir(), 'dodo-slack-launcher-'));
  for (const entry of ['bin', 'lambda', 'samples', 'package.json', 'tsconfig.json']) {
    cpSync(path.join(REPO_ROOT, entry), path.join(clone, entry), { recursive: true });
  }
  // A node_modules of its own that links each installed package, so the bundle cache lands in the copy;
  // without better-sqlite3, as where the optional native dependency did not install.
  mkdirSync(path.join(clone, 'node_modules'));
  for (const name of readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
    if (name === '.cache' || name === 'better-sqlite3') continue;
    symlinkSync(path.join(REPO_ROOT, 'node_modules', name), path.join(clone, 'node_modules', name));
  }
  cacheDir = path.join(clone, 'node_modules', '.cache', 'dodo-slack');
});
afterAll(() => rmSync(clone, { recursive: true, force: true }));

function run(...args: string[]) {
  const env = cleanEnv({ DODO_WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 7).toString('base64')}` });
  const result = spawnSync(process.execPath, [path.join(clone, 'bin', 'dodo-slack.js'), ...args], { cwd: clone, env, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function cacheState() {
  const manifestFile = path.join(cacheDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { bundle: string; inputs: Record<string, string> };
  return { manifest, manifestMtime: statSync(manifestFile).mtimeMs, bundles: readdirSync(cacheDir).filter((file) => file.startsWith('cli-')) };
}

/** The template sources that hold the payment.succeeded headline, found by its text rather than by name. */
function paymentTemplateFiles(): string[] {
  const dir = path.join(clone, 'lambda', 'messages', 'templates');
  const files = readdirSync(dir).filter((name) => readFileSync(path.join(dir, name), 'utf8').includes('Payment succeeded'));
  if (files.length === 0) throw new Error('no template writes "Payment succeeded"');
  return files.map((name) => path.join(dir, name));
}

test('the first run builds the bundle from the sources; an unchanged clone reuses it', () => {
  const first = run('preview', 'payment.succeeded', '--format', 'text');
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('Payment succeeded: $29.99 from Ada Lovelace');

  const built = cacheState();
  expect(built.bundles).toEqual([built.manifest.bundle]);
  // The manifest lists the sources the CLI is made of, and no installed package.
  expect(Object.keys(built.manifest.inputs)).toEqual(expect.arrayContaining(['bin/dodo-slack.ts', 'lambda/local/server.ts']));
  expect(Object.keys(built.manifest.inputs).some((file) => file.includes('node_modules'))).toBe(false);

  const second = run('preview', 'payment.succeeded', '--format', 'text');
  expect(second.stdout).toBe(first.stdout);
  expect(cacheState()).toEqual(built);
});

test('an edited source is run as edited, from a rebuilt bundle', () => {
  run('preview', 'payment.succeeded');
  const before = cacheState();
  for (const template of paymentTemplateFiles()) {
    writeFileSync(template, readFileSync(template, 'utf8').replaceAll('Payment succeeded', 'Payment landed'));
  }

  const edited = run('preview', 'payment.succeeded', '--format', 'text');
  expect(edited.code).toBe(0);
  expect(edited.stdout).toContain('Payment landed: $29.99 from Ada Lovelace');
  const after = cacheState();
  expect(after.manifest.bundle).not.toBe(before.manifest.bundle);
  expect(after.bundles).toEqual([after.manifest.bundle]);
});

test('a source that does not compile fails with its file and line, and runs again once mended', () => {
  const money = path.join(clone, 'lambda', 'messages', 'money.ts');
  const original = readFileSync(money, 'utf8');
  writeFileSync(money, `${original}\nexport const broken: number = ;\n`);
  const broken = run('preview', 'payment.succeeded');
  expect(broken.code).toBe(1);
  expect(broken.stdout).toBe('');
  expect(broken.stderr).toMatch(/lambda\/messages\/money\.ts:\d+:\d+/);
  expect(broken.stderr).toContain('dodo-slack: the CLI sources do not compile');

  writeFileSync(money, original);
  const mended = run('preview', 'payment.succeeded', '--format', 'text');
  expect(mended.code).toBe(0);
  expect(mended.stdout).toContain('$29.99');
});

test('without the optional SQLite binding, preview works and serve says what to install', () => {
  expect(run('preview', 'payment.succeeded').code).toBe(0);
  const dataDir = path.join(clone, 'data');
  const serve = run('serve', '--port', '0', '--data-dir', dataDir);
  expect(serve.code).toBe(1);
  expect(serve.stderr).toContain("serve's store needs better-sqlite3 12");
  expect(serve.stderr).toContain('npm install better-sqlite3@12');
  expect(serve.stdout).not.toMatch(/listening on/);
  // Nothing half-made is left to block the next start.
  expect(readdirSync(dataDir).filter((file) => file.endsWith('.pid'))).toEqual([]);
});
