/**
 * `--transform FILE` for `preview` and `serve`: the same transformation spec the construct gives a
 * route (`Transformation.fromFile` / `fromModule`), with the code in a registry instead of the
 * bundle, so the pipeline builds it the way it does on Lambda, kind included: a route with user
 * code is a `code` route (its events never fold into built-in roll-ups).
 *
 *   none          the built-in templates
 *   .js / .cjs    dashboard-style code: `function handler(webhook) { …; return webhook; }`
 *   .ts .mts .cts .mjs   a typed module exporting `transform`, bundled with esbuild as at synth
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Defaults } from '../shared/defaults';
import type { TransformationSpec } from '../shared/transformation';
import { embeddableSource, userCodeRegistryFrom, type UserCodeRegistry } from '../sandbox/registry';
import { compileTypedModule } from '../sandbox/typed-module';

/** A transformation and where its code is. */
export interface LoadedTransformation {
  readonly spec: TransformationSpec;
  /** Holds the code of a `code` spec under its `codeId` (empty for the built-in templates). */
  readonly userCode: UserCodeRegistry;
}

/** The --transform file cannot be read, or the module cannot be bundled. */
export class TransformFileError extends Error {
  override name = 'TransformFileError';
}

const TYPED_MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.cts', '.mjs']);

/**
 * Reads `file` (undefined: the built-in templates). Throws TransformFileError when it cannot be
 * read or bundled; whether the code loads is checked when the pipeline compiles it (file:line).
 */
export function loadTransformationFile(
  file: string | undefined,
  options: { readonly codeId?: string; readonly timeoutMs?: number } = {},
): LoadedTransformation {
  if (file === undefined) return { spec: { kind: 'builtin', options: {} }, userCode: userCodeRegistryFrom({}) };
  const typed = TYPED_MODULE_EXTENSIONS.has(path.extname(file));
  const source = typed ? bundleTypedModule(file) : readTransformFile(file);
  // Named as the construct names embedded code, so reasons read the same on both engines.
  const runtimeName = typed ? `${path.basename(file)}.js` : path.basename(file);
  // Several routes of a configuration file may each have code: the caller gives each its own id.
  const codeId = options.codeId ?? runtimeName;
  return {
    spec: { kind: 'code', codeId, timeoutMs: options.timeoutMs ?? Defaults.userCodeTimeoutMs },
    userCode: userCodeRegistryFrom({ [codeId]: embeddableSource(source, runtimeName) }),
  };
}

function bundleTypedModule(file: string): string {
  readTransformFile(file); // the same "cannot read" message as for other files
  try {
    return compileTypedModule(path.resolve(file));
  } catch (error) {
    throw new TransformFileError(error instanceof Error ? error.message : String(error));
  }
}

function readTransformFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TransformFileError(`cannot read transformation ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}
