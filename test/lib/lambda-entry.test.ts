/** Handler lookup works from TS sources, from the compiled package, and inside a user's node_modules. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLockFileAbove, locateHandler, locatePrebundledHandler } from '../../lib/lambda-entry';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-entry-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function touch(...segments: string[]): string {
  const file = path.join(root, ...segments);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  return file;
}

test('from TypeScript sources: lib/ next to lambda/<name>/handler.ts, lock file at the repo root', () => {
  const entry = touch('lambda', 'receiver', 'handler.ts');
  const lock = touch('package-lock.json');
  expect(locateHandler('receiver', path.join(root, 'lib'))).toEqual({ entry, depsLockFilePath: lock, projectRoot: root });
});

test('from the compiled package: dist/lib next to dist/lambda/<name>/handler.js', () => {
  const entry = touch('dist', 'lambda', 'transformer', 'handler.js');
  touch('package-lock.json');
  expect(locateHandler('transformer', path.join(root, 'dist', 'lib')).entry).toBe(entry);
});

test("installed in a user's app: the app's lock file and root, whatever lock file it uses", () => {
  touch('node_modules', 'dodo-slack-notifier', 'dist', 'lambda', 'receiver', 'handler.js');
  const lock = touch('yarn.lock');
  const location = locateHandler('receiver', path.join(root, 'node_modules', 'dodo-slack-notifier', 'dist', 'lib'));
  expect(location.depsLockFilePath).toBe(lock);
  expect(location.projectRoot).toBe(root);
});

test("installed package: bundles the shipped TypeScript source, not tsc's CommonJS output (which esbuild cannot tree-shake)", () => {
  const pkg = ['node_modules', 'dodo-slack-notifier'];
  touch(...pkg, 'dist', 'lambda', 'transformer', 'handler.js');
  const source = touch(...pkg, 'lambda', 'transformer', 'handler.ts');
  const lock = touch('package-lock.json');
  expect(locateHandler('transformer', path.join(root, ...pkg, 'dist', 'lib'))).toEqual({
    entry: source,
    depsLockFilePath: lock,
    projectRoot: root,
  });
});

test('installed package without its TypeScript sources: falls back to dist/lambda/<name>/handler.js', () => {
  const pkg = ['node_modules', 'dodo-slack-notifier'];
  const compiled = touch(...pkg, 'dist', 'lambda', 'receiver', 'handler.js');
  touch('package-lock.json');
  expect(locateHandler('receiver', path.join(root, ...pkg, 'dist', 'lib')).entry).toBe(compiled);
});

test('prefers the TypeScript source when both exist', () => {
  const entry = touch('lambda', 'receiver', 'handler.ts');
  touch('lambda', 'receiver', 'handler.js');
  touch('pnpm-lock.yaml');
  expect(locateHandler('receiver', path.join(root, 'lib')).entry).toBe(entry);
});

test('fails if the handler is missing, naming where it looked', () => {
  touch('package-lock.json');
  expect(() => locateHandler('receiver', path.join(root, 'lib'))).toThrow(
    /cannot find the receiver handler; looked for .*lambda\/receiver\/handler\.ts and .*lambda\/receiver\/handler\.js/,
  );
});

test('findLockFileAbove: the nearest lock file wins; none gives undefined', () => {
  const outer = touch('package-lock.json');
  const inner = touch('app', 'package-lock.json');
  expect(findLockFileAbove(path.join(root, 'app', 'deep', 'er'))).toBe(inner);
  expect(findLockFileAbove(path.join(root, 'other'))).toBe(outer);
  expect(findLockFileAbove('/')).toBeUndefined();
});

test('this repository: both real handlers are found with the repository lock file', () => {
  for (const name of ['receiver', 'transformer'] as const) {
    const location = locateHandler(name);
    expect(location.entry).toBe(path.resolve(__dirname, '..', '..', 'lambda', name, 'handler.ts'));
    expect(location.depsLockFilePath).toBe(path.resolve(__dirname, '..', '..', 'package-lock.json'));
  }
});

describe('locatePrebundledHandler', () => {
  test('from the compiled package: dist/handlers/<name>/ when npm run build put index.js there', () => {
    touch('dist', 'handlers', 'receiver', 'index.js');
    expect(locatePrebundledHandler('receiver', path.join(root, 'dist', 'lib'))).toBe(path.join(root, 'dist', 'handlers', 'receiver'));
    expect(locatePrebundledHandler('transformer', path.join(root, 'dist', 'lib'))).toBeUndefined();
  });

  test('from the TypeScript sources: never, even when a build left bundles behind (they may be stale)', () => {
    touch('dist', 'handlers', 'receiver', 'index.js');
    expect(locatePrebundledHandler('receiver', path.join(root, 'lib'))).toBeUndefined();
  });
});
