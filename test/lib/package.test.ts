/**
 * What the published package must contain for an app that installs it (no npm pack here: that
 * check, with a real user app, is scripts/check-package.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { HANDLER_NAMES } from '../../lib/lambda-entry';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  scripts: Record<string, string>;
  bin: Record<string, string>;
  files: string[];
};
/**
 * tsconfig.build.json as `npm run build` (tsc -p) reads it: `extends` followed, include/exclude
 * expanded to the files it compiles, rootDir and outDir resolved to absolute paths.
 */
const buildConfig = (() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error('cannot read tsconfig.build.json');
  return { files: parsed.fileNames.map((file) => path.resolve(file)), rootDir: parsed.options.rootDir!, outDir: parsed.options.outDir! };
})();

/** Whether npm packs `file` given the "files" field (an entry names the file or a folder above it). */
function packed(file: string): boolean {
  const normalized = path.posix.normalize(file.replace(/^\.\//, ''));
  return pkg.files.some((entry) => {
    const prefix = path.posix.normalize(entry.replace(/^\.\//, '').replace(/\/$/, ''));
    return normalized === prefix || normalized.startsWith(`${prefix}/`);
  });
}

/** Where `npm run build` (tsc -p tsconfig.build.json) writes the output of a source file, relative to the package root. */
function compiledPath(source: string, extension: '.js' | '.d.ts'): string {
  const output = path.join(buildConfig.outDir, path.relative(buildConfig.rootDir, path.join(root, source))).replace(/\.ts$/, extension);
  return path.relative(root, output).split(path.sep).join('/');
}

test('main and types are the build output of lib/index.ts, and are packed', () => {
  // The build compiles lib/index.ts (an include or exclude change could drop it), to where main points.
  expect(buildConfig.files).toContain(path.join(root, 'lib/index.ts'));
  expect(pkg.main).toBe(compiledPath('lib/index.ts', '.js'));
  expect(pkg.types).toBe(compiledPath('lib/index.ts', '.d.ts'));
  expect(packed(pkg.main)).toBe(true);
  expect(packed(pkg.types)).toBe(true);
});

test('the dodo-slack bin is an executable node script that is packed, and the compiled CLI it runs is too', () => {
  const bin = pkg.bin['dodo-slack'];
  expect(bin).toBeDefined();
  expect(packed(bin)).toBe(true);
  const text = fs.readFileSync(path.join(root, bin), 'utf8');
  expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
  // Installed, bin/dodo-slack.js runs dist/bin/dodo-slack.js.
  expect(text).toContain("'dist', 'bin', 'dodo-slack.js'");
  expect(packed(compiledPath('bin/dodo-slack.ts', '.js'))).toBe(true);
});

test('both handlers are packed as the TypeScript sources lib/lambda-entry.ts bundles, with the compiled fallback', () => {
  for (const name of ['receiver', 'transformer']) {
    const source = `lambda/${name}/handler.ts`;
    expect(fs.existsSync(path.join(root, source))).toBe(true);
    expect(packed(source)).toBe(true);
    expect(packed(compiledPath(source, '.js'))).toBe(true);
  }
  // Everything the handlers import from lambda/ comes along with them.
  expect(packed('lambda/shared/function-env.ts')).toBe(true);
  expect(packed('lambda/messages/templates/index.ts')).toBe(true);
});

test('npm run build prebundles every handler into dist/handlers, which is packed (no esbuild or Docker at a user\'s synth)', () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.build).toMatch(/tsc -p tsconfig\.build\.json && node scripts\/prebundle-handlers\.js$/);
  const script = fs.readFileSync(path.join(root, 'scripts', 'prebundle-handlers.js'), 'utf8');
  expect(script).toContain("path.join(root, 'dist', 'handlers', name, 'index.js')");
  expect(script).toContain('esbuildOptionsFor');
  expect(script).toContain('for (const name of HANDLER_NAMES)');
  expect([...HANDLER_NAMES].sort()).toEqual(fs.readdirSync(path.join(root, 'lambda')).filter((dir) => fs.existsSync(path.join(root, 'lambda', dir, 'handler.ts'))).sort());
  for (const name of HANDLER_NAMES) expect(packed(`dist/handlers/${name}/index.js`)).toBe(true);
});

test('esbuild is an optional peer dependency: only Transformation.fromModule needs it', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  expect(manifest.peerDependencies.esbuild).toBeDefined();
  expect(manifest.peerDependenciesMeta?.esbuild?.optional).toBe(true);
});

test('the samples the CLI names event types by are packed', () => {
  const samples = fs.readdirSync(path.join(root, 'samples')).filter((file) => file.endsWith('.json'));
  expect(samples).toContain('payment.succeeded.json');
  expect(samples.every((file) => packed(`samples/${file}`))).toBe(true);
});

test('nothing local or secret is packed: tests, build caches, dead letters, env files', () => {
  for (const file of ['test/lib/helpers.ts', 'cdk.out/manifest.json', 'dead-letters.jsonl', '.env', 'node_modules/x', '.bench/x']) {
    expect(packed(file)).toBe(false);
  }
});

test('the build runs when the package is packed, never on install: npm ci and the first npx in a clone stay quick', () => {
  // npm runs `prepare` after `npm ci` and again when npx links the clone's own bin (19–40 s of tsc,
  // silent); `prepack` runs only for npm pack and npm publish, where dist/ is needed.
  expect(pkg.scripts.prepare).toBeUndefined();
  expect(pkg.scripts.prepack).toBe('npm run build');
  expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
});

test('the routing configuration schema is packed where the README points editors to it', () => {
  expect(packed('schema/dodo-slack.config.schema.json')).toBe(true);
});
