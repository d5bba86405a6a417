import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The links of the SDK's default credential chain that it loads with `await import()` only when the
 * links before them found nothing: SSO, shared ini files, credential_process, web identity, the
 * container and instance metadata endpoints, and the STS/SSO clients they use. On Lambda the first
 * link (environment variables, which the runtime always sets) answers, so none of them ever runs;
 * bundled, they were a quarter of every bundle (receiver 384 -> 251 KB) that V8 still had to parse
 * at each cold start (receiver init 39 -> 30 ms, transformer 54 -> 44 ms on the bench machine).
 * Only a bundle run where environment credentials are missing (never on Lambda) would reach one, and
 * stop there with Node's "Cannot find package '@aws-sdk/credential-provider-…'" instead of trying it.
 */
export const LAZY_CREDENTIAL_PROVIDERS: readonly string[] = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@smithy/credential-provider-imds',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
];

/**
 * esbuild settings of the two Lambda bundles. The construct passes these to `NodejsFunction`
 * and `npm run bench` builds with the same values (through {@link esbuildOptionsFor}), so the
 * benchmark measures the code that is deployed.
 *
 * Why these values (measured with `npm run bench` and per-module timings, see docs/performance.md):
 * - `externalModules` names only {@link LAZY_CREDENTIAL_PROVIDERS}: AWS SDK v3 is bundled instead of
 *   loaded from the copy in the Lambda runtime. The runtime's copy is hundreds of unbundled files
 *   (each one a file read and a compile at init) and a version we do not test against; bundled and
 *   tree-shaken, only the two or three clients we use are loaded, from one file.
 * - `mainFields: ['module', 'main']` makes esbuild read the SDK's and Powertools' ES module builds,
 *   which tree-shake: the receiver bundle drops from ~530 KB to ~380 KB and its init from ~50 ms to
 *   ~31 ms CPU, and the browser-only `bowser` that the CommonJS builds pull in disappears.
 * - `minify`: less to read and parse at init; no source maps (they cost init time when enabled
 *   and the handlers are small enough to debug from their logs).
 */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  externalModules: [...LAZY_CREDENTIAL_PROVIDERS],
} satisfies BundlingOptions;

/** The subset of NodejsFunction bundling options that decides what the bundle contains. */
export interface LambdaBundlingSettings {
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly target: string;
  readonly mainFields?: readonly string[];
  readonly externalModules?: readonly string[];
}

/** The esbuild `build()` options equivalent to what NodejsFunction runs for {@link LAMBDA_BUNDLING}. */
export interface LambdaEsbuildOptions {
  readonly entryPoints: string[];
  readonly outfile: string;
  readonly bundle: true;
  readonly platform: 'node';
  readonly format: 'cjs';
  readonly target: string;
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly mainFields?: string[];
  readonly external: string[];
  readonly define: Record<string, string>;
}

/**
 * Options for esbuild's `build()` that produce the same file NodejsFunction produces from
 * {@link LAMBDA_BUNDLING} (`--bundle --platform=node --target --minify --main-fields --external
 * --define`; NodejsFunction's default output format is CommonJS).
 */
export function esbuildOptionsFor(
  entry: string,
  outfile: string,
  define: Record<string, string> = {},
  bundling: LambdaBundlingSettings = LAMBDA_BUNDLING,
): LambdaEsbuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    // NodejsFunction passes --main-fields only when set; esbuild's default for node is main, module.
    ...(bundling.mainFields === undefined ? {} : { mainFields: [...bundling.mainFields] }),
    // NodejsFunction's default for Node.js 18+ runtimes: the runtime's SDK v3.
    external: [...(bundling.externalModules ?? ['@aws-sdk/*'])],
    define,
  };
}
