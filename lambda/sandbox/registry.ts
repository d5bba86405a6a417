/**
 * User transformation code shipped with the transformer bundle at synth time, in one of two ways:
 *
 * - Bundled from the sources (this repository, or a package without prebundled handlers): the
 *   construct runs esbuild with
 *   `define: { __DODO_SLACK_USER_CODE__: JSON.stringify(JSON.stringify({ [codeId]: source })) }`,
 *   so in the bundle the identifier below is a string literal holding a JSON object of sources keyed
 *   by the `codeId` of each route's `{ kind: 'code' }` transformation spec.
 * - Prebundled (the published package, `dist/handlers/transformer/index.js`, built without the
 *   define): the construct puts the same JSON object beside the bundle as {@link USER_CODE_FILE}.
 *
 * Outside such a bundle (tests, the local workbench) there is neither, and the registry is empty.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** File beside a prebundled transformer holding `{ [codeId]: source }`. */
export const USER_CODE_FILE = 'dodo-slack-user-code.json';

declare const __DODO_SLACK_USER_CODE__: string | undefined;

/** Looks up the JavaScript source of one `code` transformation. */
export interface UserCodeRegistry {
  get(codeId: string): string | undefined;
}

/**
 * User code as it is embedded: the source with a `//# sourceURL=` naming it, so stack traces and
 * reasons say `payment_notifs.js:12`, never a path of the machine that built it.
 */
export function embeddableSource(source: string, runtimeName: string): string {
  return `${source}\n//# sourceURL=${runtimeName.replace(/[^\w.@-]/g, '_')}\n`;
}

/** A registry over an explicit `{ codeId: source }` record (tests, local workbench). */
export function userCodeRegistryFrom(sources: Readonly<Record<string, string>>): UserCodeRegistry {
  return {
    get: (codeId) => (Object.prototype.hasOwnProperty.call(sources, codeId) ? sources[codeId] : undefined),
  };
}

/** The JSON text of the embedded sources: the define, else the file beside the bundle, else none. */
function embeddedJson(): string | undefined {
  if (typeof __DODO_SLACK_USER_CODE__ === 'string') return __DODO_SLACK_USER_CODE__;
  try {
    return readFileSync(path.join(__dirname, USER_CODE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readEmbeddedSources(): Record<string, string> {
  const json = embeddedJson();
  if (json === undefined) return {};
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const sources: Record<string, string> = {};
  for (const [codeId, source] of Object.entries(parsed)) {
    if (typeof source === 'string') sources[codeId] = source;
  }
  return sources;
}

let embedded: UserCodeRegistry | undefined;

/** The code embedded into this bundle (empty outside a transformer bundle). */
export function embeddedUserCode(): UserCodeRegistry {
  embedded ??= userCodeRegistryFrom(readEmbeddedSources());
  return embedded;
}
