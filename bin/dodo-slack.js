#!/usr/bin/env node
'use strict';
/*
 * Entry point of `npx dodo-slack` and `npm start`.
 *
 * Installed as a package (this file sits under node_modules), it runs the compiled CLI in dist/,
 * built when the package was packed.
 *
 * In a clone of the repository it runs bin/dodo-slack.ts bundled by esbuild (our sources only,
 * packages stay external) into node_modules/.cache/dodo-slack/. A manifest lists every source the
 * bundle was built from with its mtime and size; when any of them changed, or the bundle is
 * missing, the bundle is rebuilt first (about half a second), so an edit is never run stale. An
 * unchanged clone starts at the cost of one stat per source file: about 1.5× a bare `node -e 0`,
 * where ts-node's transpile of every source on each start cost about 15×.
 *
 * Written by hand rather than with a loader such as tsx or esbuild-register because those still
 * transpile (or hash) each file on every start; the bundle is built once per change.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const SOURCE = path.join(__dirname, 'dodo-slack.ts');
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'dodo-slack');
const MANIFEST = path.join(CACHE_DIR, 'manifest.json');
/** Bump when the build options below change: a manifest of another format is rebuilt. */
const BUILD_FORMAT = 1;

function installedAsPackage() {
  return __dirname.split(path.sep).includes('node_modules');
}

function resolvable(name) {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function fingerprint(file) {
  const stat = fs.statSync(path.join(ROOT, file), { throwIfNoEntry: false });
  return stat ? `${stat.mtimeMs}:${stat.size}` : 'missing';
}

/** The bundle the manifest names, when every source it lists is as it was at build time. */
function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest.format !== BUILD_FORMAT || typeof manifest.bundle !== 'string' || !manifest.inputs) return undefined;
  for (const [file, recorded] of Object.entries(manifest.inputs)) {
    if (fingerprint(file) !== recorded) return undefined;
  }
  const bundle = path.join(CACHE_DIR, manifest.bundle);
  return fs.existsSync(bundle) ? bundle : undefined;
}

/** Writes `text` to `file` by rename, so a concurrent start never reads half a file. */
function writeAtomically(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

function build() {
  const esbuild = require('esbuild');
  // Fingerprints are taken before the build: a source saved during the build is then seen as changed next time.
  let result;
  try {
    result = esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: [path.relative(ROOT, SOURCE)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      metafile: true,
      write: false,
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
    });
  } catch (error) {
    // esbuild's own messages name the file, line and column of what does not compile.
    const messages = esbuild.formatMessagesSync(error.errors || [], { kind: 'error', color: process.stderr.isTTY });
    process.stderr.write(messages.length > 0 ? messages.join('') : `${error.message}\n`);
    process.stderr.write('dodo-slack: the CLI sources do not compile (see above)\n');
    process.exit(1);
  }
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) inputs[file] = fingerprint(file);
  const code = result.outputFiles[0].contents;
  const name = `cli-${require('node:crypto').createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const bundle = path.join(CACHE_DIR, name);
  if (!fs.existsSync(bundle)) writeAtomically(bundle, code);
  writeAtomically(MANIFEST, `${JSON.stringify({ format: BUILD_FORMAT, bundle: name, inputs }, null, 1)}\n`);
  // Bundles are named by content and never rewritten; drop the ones the manifest no longer names.
  for (const old of fs.readdirSync(CACHE_DIR)) {
    if (/^cli-[0-9a-f]{16}\.js$/.test(old) && old !== name) fs.rmSync(path.join(CACHE_DIR, old), { force: true });
  }
  return bundle;
}

if (!installedAsPackage() && fs.existsSync(SOURCE) && resolvable('esbuild')) {
  // Source maps on, so a stack trace names bin/ and lambda/ lines rather than the bundle's.
  process.setSourceMapsEnabled(true);
  require(freshBundle() || build()).runCli();
} else if (!installedAsPackage() && fs.existsSync(SOURCE) && resolvable('ts-node')) {
  require('ts-node').register({ transpileOnly: true, project: path.join(ROOT, 'tsconfig.json') });
  require(SOURCE).runCli();
} else {
  require(path.join(ROOT, 'dist', 'bin', 'dodo-slack.js')).runCli();
}
