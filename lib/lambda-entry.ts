import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Lambda handlers this package ships: `lambda/<name>/handler.ts`, prebundled into `dist/handlers/<name>/`. */
export const HANDLER_NAMES = ['receiver', 'transformer', 'summaries', 'alerts'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** Lock files NodejsFunction understands, in the order we prefer them when several sit in one folder. */
const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'] as const;

/** Where esbuild starts (`entry`) and which project it resolves dependencies from. */
export interface HandlerBundleLocation {
  /** Absolute path of the handler source. */
  readonly entry: string;
  /** Absolute path of the nearest lock file above the entry. */
  readonly depsLockFilePath: string;
  /** The folder holding that lock file: esbuild's working directory. */
  readonly projectRoot: string;
}

/**
 * Finds a handler whether this library runs from its TypeScript sources (`lib/*.ts` next to
 * `lambda/<name>/handler.ts`, as in this repository and under ts-node) or from the compiled package
 * (`dist/lib/*.js`, as when installed from npm).
 *
 * Used when no prebundled handler is found ({@link locatePrebundledHandler}). The compiled package bundles the TypeScript sources it ships (`lambda/<name>/handler.ts` beside
 * `dist/`), and `dist/lambda/<name>/handler.js` only when they are missing: tsc's CommonJS output
 * turns every import into a `require()`, which esbuild cannot tree-shake, so bundles built from it
 * carry whole SDK and Powertools modules (receiver ~420 KB instead of ~380 KB, transformer ~650 KB
 * instead of ~515 KB, and half again the init time of the transformer) — not the bundles that
 * `lib/bundling.ts` and `npm run bench` describe. esbuild ignores the app's tsconfig.json for
 * files under node_modules, so the sources bundle the same in every app.
 *
 * The lock file is looked up from the entry upwards, so inside a user's app (package in
 * `node_modules/dodo-slack-notifier`, which ships no lock file) it is the app's own lock file and
 * esbuild resolves the handlers' dependencies from the app's `node_modules`.
 */
export function locateHandler(name: HandlerName, libDir: string = __dirname): HandlerBundleLocation {
  const sourceDir = path.resolve(libDir, '..', 'lambda', name);
  const candidates = [path.join(sourceDir, 'handler.ts')];
  const compiledPackage = path.basename(libDir) === 'lib' && path.basename(path.dirname(libDir)) === 'dist';
  if (compiledPackage) candidates.push(path.resolve(libDir, '..', '..', 'lambda', name, 'handler.ts'));
  candidates.push(path.join(sourceDir, 'handler.js'));
  const entry = candidates.find((candidate) => fs.existsSync(candidate));
  if (!entry) {
    throw new Error(
      `dodo-slack-notifier: cannot find the ${name} handler; looked for ${candidates.join(' and ')}. ` +
        'Reinstall the package, or run `npm run build` when using it from a git checkout.',
    );
  }
  const depsLockFilePath = findLockFileAbove(path.dirname(entry));
  if (!depsLockFilePath) {
    throw new Error(
      `dodo-slack-notifier: no lock file (${LOCK_FILES.join(', ')}) in ${path.dirname(entry)} or any folder above it; ` +
        'the Lambda bundler needs one to know the project root. Run `npm install` in your CDK app.',
    );
  }
  return { entry, depsLockFilePath, projectRoot: path.dirname(depsLockFilePath) };
}

/** The nearest lock file in `startDir` or one of its ancestors, or undefined. */
export function findLockFileAbove(startDir: string): string | undefined {
  let dir = path.resolve(startDir);
  for (;;) {
    for (const lockFile of LOCK_FILES) {
      const candidate = path.join(dir, lockFile);
      if (fs.existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The folder of a handler prebundled by `npm run build` (`dist/handlers/<name>/index.js`, built
 * with {@link esbuildOptionsFor} from lib/bundling.ts), when this library runs from the compiled
 * package and the bundle is there; undefined otherwise (from the TypeScript sources, the construct
 * bundles them at synth, so what is deployed is always the current code). With a prebundled
 * handler a user's synth needs neither esbuild nor Docker.
 */
export function locatePrebundledHandler(name: HandlerName, libDir: string = __dirname): string | undefined {
  const compiledPackage = path.basename(libDir) === 'lib' && path.basename(path.dirname(libDir)) === 'dist';
  if (!compiledPackage) return undefined;
  const dir = path.resolve(libDir, '..', 'handlers', name);
  return fs.existsSync(path.join(dir, PREBUNDLED_HANDLER_FILE)) ? dir : undefined;
}

/** The file name of a prebundled handler in its folder (Lambda handler `index.handler`). */
export const PREBUNDLED_HANDLER_FILE = 'index.js';
