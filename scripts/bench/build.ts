/** Builds the production Lambda bundles (lib/bundling.ts settings), the measuring harnesses and the compiled CLI into .bench/. */
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { esbuildOptionsFor, LAMBDA_BUNDLING, type LambdaBundlingSettings } from '../../lib/bundling';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Inside the project (and git-ignored) so the compiled CLI resolves its dependencies from node_modules. */
export const OUT_DIR = path.join(ROOT, '.bench');

/**
 * The define the construct passes to the transformer: the user transformation code, a JS expression
 * that evaluates to a JSON string. With no code transformations configured it is `{}`.
 */
const NO_USER_CODE = { __DODO_SLACK_USER_CODE__: JSON.stringify(JSON.stringify({})) };

/**
 * What `new NodejsFunction(this, id, { entry, runtime: NODEJS_22_X })` bundles with no bundling
 * options: no minification, no source map, target from the runtime, AWS SDK v3 left to the Lambda
 * runtime's copy (`@aws-sdk/*` external; here it loads from node_modules, as unbundled as there),
 * esbuild's default main fields. The baseline of the init ratios: what a user of NodejsFunction gets
 * without choosing anything.
 */
export const NODEJS_FUNCTION_DEFAULTS: LambdaBundlingSettings = { minify: false, sourceMap: false, target: 'node22' };
export const NODEJS_FUNCTION_DEFAULTS_NAME = 'NodejsFunction defaults (SDK from the runtime, not minified)';
/** What lib/dodo-slack-notifier.ts deploys. */
export const DEPLOYED_BUNDLING_NAME = 'lib/bundling.ts (SDK bundled, module-first, minified)';

export interface BuiltFiles {
  readonly receiver: string;
  readonly transformer: string;
  readonly receiverBytes: number;
  readonly transformerBytes: number;
  readonly receiverHarness: string;
  readonly transformerHarness: string;
  readonly cli: string;
  readonly initProbe: string;
  readonly buildMs: number;
}

/**
 * The two per-event harnesses (receiver-events.ts, transformer-events.ts), each bundled with the
 * handler it measures and that handler's minimal twin, with the Lambda bundling settings, into `outDir`.
 */
export async function buildHarnesses(outDir: string, bundling: LambdaBundlingSettings = LAMBDA_BUNDLING): Promise<{ readonly receiverHarness: string; readonly transformerHarness: string }> {
  const receiverHarness = path.join(outDir, 'receiver-events.js');
  const transformerHarness = path.join(outDir, 'transformer-events.js');
  await Promise.all([
    build({ ...esbuildOptionsFor(path.join(ROOT, 'scripts/bench/receiver-events.ts'), receiverHarness, {}, bundling), logLevel: 'error' }),
    build({ ...esbuildOptionsFor(path.join(ROOT, 'scripts/bench/transformer-events.ts'), transformerHarness, NO_USER_CODE, bundling), logLevel: 'error' }),
  ]);
  return { receiverHarness, transformerHarness };
}

export async function buildAll(bundling: LambdaBundlingSettings = LAMBDA_BUNDLING): Promise<BuiltFiles> {
  const started = Date.now();
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const out = (name: string) => path.join(OUT_DIR, name);
  const lambda = (entry: string, file: string, define: Record<string, string> = {}) =>
    build({ ...esbuildOptionsFor(path.join(ROOT, entry), out(file), define, bundling), logLevel: 'error' });
  const [, , harnesses] = await Promise.all([
    lambda('lambda/receiver/handler.ts', 'receiver.js'),
    lambda('lambda/transformer/handler.ts', 'transformer.js', NO_USER_CODE),
    buildHarnesses(OUT_DIR, bundling),
    build({ entryPoints: [path.join(ROOT, 'scripts/bench/init-probe.ts')], outfile: out('init-probe.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' }),
    // The CLI as the published package runs it: compiled, dependencies loaded from node_modules. Its entry
    // is bin/dodo-slack.ts itself, which runs when it is the main module (a wrapper calling runCli() as
    // well started the CLI twice: two `serve`s in one process, the second refused by the store's lock).
    build({ entryPoints: [path.join(ROOT, 'bin/dodo-slack.ts')], outfile: out('dodo-slack.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'error' }),
  ]);
  return {
    receiver: out('receiver.js'),
    transformer: out('transformer.js'),
    receiverBytes: statSync(out('receiver.js')).size,
    transformerBytes: statSync(out('transformer.js')).size,
    ...harnesses,
    cli: out('dodo-slack.js'),
    initProbe: out('init-probe.js'),
    buildMs: Date.now() - started,
  };
}

/** For comparison: the two handlers built with other settings (NodejsFunction's defaults). */
export async function buildComparison(bundling: LambdaBundlingSettings = NODEJS_FUNCTION_DEFAULTS): Promise<{ receiver: string; transformer: string; receiverBytes: number; transformerBytes: number }> {
  const out = (name: string) => path.join(OUT_DIR, name);
  const other = (entry: string, file: string, define: Record<string, string> = {}) =>
    build({ ...esbuildOptionsFor(path.join(ROOT, entry), out(file), define, bundling), logLevel: 'error' });
  await Promise.all([other('lambda/receiver/handler.ts', 'comparison-receiver.js'), other('lambda/transformer/handler.ts', 'comparison-transformer.js', NO_USER_CODE)]);
  return {
    receiver: out('comparison-receiver.js'),
    transformer: out('comparison-transformer.js'),
    receiverBytes: statSync(out('comparison-receiver.js')).size,
    transformerBytes: statSync(out('comparison-transformer.js')).size,
  };
}
