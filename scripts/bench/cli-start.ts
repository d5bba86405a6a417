/**
 * CLI start: `node bin/dodo-slack.js preview payment.succeeded` in this clone (what `npx dodo-slack`
 * runs, without npx's own start-up) against a bare `node -e 0`, alternated in one run so both see the
 * same machine. The ratio is what the budget holds; the milliseconds are this machine's.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { median } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'dodo-slack.js');

export interface CliStartResult {
  readonly cliMs: number;
  readonly nodeMs: number;
  /** Median of the per-pair ratios: a disturbance hits one pair, not the whole figure. */
  readonly ratio: number;
  readonly pairs: number;
}

function timedRun(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(process.execPath, args, { cwd: ROOT, timeout: 30_000, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } }, (error) => {
      if (error) reject(new Error(`node ${args.join(' ')}: ${error.message}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}

export async function measureCliStart(pairs: number): Promise<CliStartResult> {
  const cliArgs = [CLI, 'preview', 'payment.succeeded'];
  await timedRun(cliArgs); // builds the clone's bundle if a source changed since the last run
  const cli: number[] = [];
  const node: number[] = [];
  const ratios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const nodeMs = await timedRun(['-e', '0']);
    const cliMs = await timedRun(cliArgs);
    node.push(nodeMs);
    cli.push(cliMs);
    ratios.push(cliMs / nodeMs);
  }
  return { cliMs: median(cli), nodeMs: median(node), ratio: median(ratios), pairs };
}
