/** Builds the production Lambda bundles (lib/bundling.ts settings), the measuring harnesses and the compiled CLI into .bench/. */
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { esbuildOptionsFor } from '../../lib/bundling';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Inside the project (and git-ignored) so the compiled CLI resolves its dependencies from node_modules. */
export const OUT_DIR = path.join(ROOT, '.bench');

/**
 * The define the construct passes to the transformer: the user transformation code, a JS expression
 * that evaluates to a JSON string. With no code transformations configured it is `{}`.
 */
const NO_USER_CODE = { __DODO_SLACK_USER_CODE__: JSON.stringify(JSON.stringify({})) };

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

export async function buildAll(): Promise<BuiltFiles> {
  const started = Date.now();
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const out = (name: string) => path.join(OUT_DIR, name);
  const lambda = (entry: string, file: string, define: Record<string, string> = {}) =>
    build({ ...esbuildOptionsFor(path.join(ROOT, entry), out(file), define), logLevel: 'error' });
  await Promise.all([
    lambda('lambda/receiver/handler.ts', 'receiver.js'),
    lambda('lambda/transformer/handler.ts', 'transformer.js', NO_USER_CODE),
    lambda('scripts/bench/receiver-events.ts', 'receiver-events.js'),
    lambda('scripts/bench/transformer-events.ts', 'transformer-events.js', NO_USER_CODE),
    build({ entryPoints: [path.join(ROOT, 'scripts/bench/init-probe.ts')], outfile: out('init-probe.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' }),
    // The CLI as the published package runs it: compiled, dependencies loaded from node_modules.
    build({ entryPoints: [path.join(ROOT, 'scripts/bench/cli-entry.ts')], outfile: out('dodo-slack.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'error' }),
  ]);
  return {
    receiver: out('receiver.js'),
    transformer: out('transformer.js'),
    receiverBytes: statSync(out('receiver.js')).size,
    transformerBytes: statSync(out('transformer.js')).size,
    receiverHarness: out('receiver-events.js'),
    transformerHarness: out('transformer-events.js'),
    cli: out('dodo-slack.js'),
    initProbe: out('init-probe.js'),
    buildMs: Date.now() - started,
  };
}

/**
 * For comparison only: the same handlers built with NodejsFunction's defaults (AWS SDK external,
 * loaded from node_modules here and from the runtime's copy on Lambda; esbuild's default main fields).
 */
export async function buildCdkDefaults(): Promise<{ receiver: string; transformer: string; receiverBytes: number; transformerBytes: number }> {
  const out = (name: string) => path.join(OUT_DIR, name);
  const defaults = (entry: string, file: string, define: Record<string, string> = {}) => {
    const { mainFields: _ignored, ...options } = esbuildOptionsFor(path.join(ROOT, entry), out(file), define);
    return build({ ...options, external: ['@aws-sdk/*'], logLevel: 'error' });
  };
  await Promise.all([defaults('lambda/receiver/handler.ts', 'cdk-defaults-receiver.js'), defaults('lambda/transformer/handler.ts', 'cdk-defaults-transformer.js', NO_USER_CODE)]);
  return {
    receiver: out('cdk-defaults-receiver.js'),
    transformer: out('cdk-defaults-transformer.js'),
    receiverBytes: statSync(out('cdk-defaults-receiver.js')).size,
    transformerBytes: statSync(out('cdk-defaults-transformer.js')).size,
  };
}
