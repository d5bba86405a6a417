/**
 * User transformation code embedded into the transformer bundle at synth time.
 *
 * The construct bundles the transformer with esbuild and
 * `define: { __DODO_SLACK_USER_CODE__: JSON.stringify(JSON.stringify({ [codeId]: source })) }`,
 * so in the bundle the identifier below is a string literal holding a JSON object of sources keyed
 * by the `codeId` of each route's `{ kind: 'code' }` transformation spec. Outside such a bundle
 * (tests, the local workbench) it is not defined and the embedded registry is empty.
 */

declare const __DODO_SLACK_USER_CODE__: string | undefined;

/** Looks up the JavaScript source of one `code` transformation. */
export interface UserCodeRegistry {
  get(codeId: string): string | undefined;
}

/** A registry over an explicit `{ codeId: source }` record (tests, local workbench). */
export function userCodeRegistryFrom(sources: Readonly<Record<string, string>>): UserCodeRegistry {
  return {
    get: (codeId) => (Object.prototype.hasOwnProperty.call(sources, codeId) ? sources[codeId] : undefined),
  };
}

function readEmbeddedSources(): Record<string, string> {
  if (typeof __DODO_SLACK_USER_CODE__ !== 'string') return {};
  const parsed: unknown = JSON.parse(__DODO_SLACK_USER_CODE__);
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
