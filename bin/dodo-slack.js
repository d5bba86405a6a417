#!/usr/bin/env node
'use strict';
/*
 * Entry point of `npx dodo-slack` and `npm start`.
 *
 * Installed as a package (this file sits under node_modules), it runs the compiled CLI in dist/.
 * In a clone of the repository it runs the TypeScript sources through ts-node (transpile only,
 * about a second), so `npm start` and `npx dodo-slack` always run the code as it is now, with
 * no stale build after an edit.
 */
const fs = require('node:fs');
const path = require('node:path');

function tsNodeInstalled() {
  try {
    require.resolve('ts-node');
    return true;
  } catch {
    return false;
  }
}

const source = path.join(__dirname, 'dodo-slack.ts');
const insideNodeModules = __dirname.split(path.sep).includes('node_modules');

if (!insideNodeModules && fs.existsSync(source) && tsNodeInstalled()) {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
  require(source).runCli();
} else {
  require(path.join(__dirname, '..', 'dist', 'bin', 'dodo-slack.js')).runCli();
}
