#!/usr/bin/env node
/**
 * Part of `npm run build`, after tsc: bundles every Lambda handler into dist/handlers/<name>/index.js
 * with the settings the construct would use at synth (lib/bundling.ts, through the compiled
 * dist/lib/bundling.js), so an app using the published package synthesizes the built-in path with
 * neither esbuild nor Docker (lib/lambda-entry.ts: locatePrebundledHandler). The transformer is
 * built without the user-code define; the construct ships user code beside it as a file
 * (lambda/sandbox/registry.ts).
 */
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const root = path.resolve(__dirname, '..');
const { esbuildOptionsFor } = require(path.join(root, 'dist', 'lib', 'bundling.js'));
const { HANDLER_NAMES } = require(path.join(root, 'dist', 'lib', 'lambda-entry.js'));

for (const name of HANDLER_NAMES) {
  const outfile = path.join(root, 'dist', 'handlers', name, 'index.js');
  fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
  esbuild.buildSync({ ...esbuildOptionsFor(path.join(root, 'lambda', name, 'handler.ts'), outfile), logLevel: 'warning' });
  console.log(`prebundled ${path.relative(root, outfile)} (${Math.round(fs.statSync(outfile).size / 1024)} KB)`);
}
