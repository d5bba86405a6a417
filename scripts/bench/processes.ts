/** Child processes of the benchmark: fresh-process init probes and the per-event harnesses. Every wait is bounded. */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { FIXTURES_DIR, median } from './fixtures';

/** The environment the construct gives the functions (values are placeholders; nothing is called). */
export const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  POWERTOOLS_METRICS_NAMESPACE: 'DodoSlackNotifier',
  SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-signing',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events-dlq',
  IDEMPOTENCY_TABLE_NAME: 'dodo-slack-dedupe',
  EVENT_FILTER: '["*"]',
  TIMESTAMP_TOLERANCE_SECONDS: '300',
  SECRET_CACHE_TTL_SECONDS: '300',
  ROUTES: JSON.stringify([{ id: 'default', events: ['*'], slackSecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-slack-url', transformation: { kind: 'builtin', options: {} } }]),
};

/** Children still running, so the watchdog can stop them (never anything this process did not start). */
export const liveChildren = new Set<ChildProcess>();

/** Tracks `child` in {@link liveChildren} until it exits. */
export function track<T extends ChildProcess>(child: T): T {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

function lambdaEnv(kind: 'receiver' | 'transformer'): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', ...LAMBDA_ENV, POWERTOOLS_SERVICE_NAME: `dodo-slack-${kind}` };
}

export interface InitSample {
  readonly importMs: number;
  readonly initMs: number;
  readonly cpuMs: number;
}

export interface InitSummary {
  readonly samples: number;
  readonly initMs: number;
  readonly importMs: number;
  readonly cpuMs: number;
}

export interface InitComparison {
  readonly ours: InitSummary;
  readonly theirs: InitSummary;
  /** Median of the per-pair ratios ours / theirs: a disturbance hits one pair, not the figure. */
  readonly ratio: number;
  readonly ratios: number[];
}

/**
 * `pairs` fresh processes of each bundle, alternated so both see the same machine; which one goes
 * first alternates too, so an order effect (file cache, CPU frequency) favours neither.
 */
export async function compareInit(probe: string, ours: string, theirs: string, kind: 'receiver' | 'transformer', pairs: number): Promise<InitComparison> {
  const oursSamples: InitSample[] = [];
  const theirsSamples: InitSample[] = [];
  for (let pair = 0; pair < pairs; pair += 1) {
    if (pair % 2 === 0) {
      oursSamples.push(await initSample(probe, ours, kind));
      theirsSamples.push(await initSample(probe, theirs, kind));
    } else {
      theirsSamples.push(await initSample(probe, theirs, kind));
      oursSamples.push(await initSample(probe, ours, kind));
    }
  }
  const ratios = oursSamples.map((sample, index) => sample.initMs / theirsSamples[index].initMs);
  return { ours: summarise(oursSamples), theirs: summarise(theirsSamples), ratio: median(ratios), ratios };
}

function initSample(probe: string, bundle: string, kind: 'receiver' | 'transformer'): Promise<InitSample> {
  return new Promise((resolve, reject) => {
    track(
      execFile(process.execPath, [probe, bundle, kind], { env: lambdaEnv(kind), timeout: 30_000, encoding: 'utf8' }, (error: Error | null, out: string) => {
        if (error) reject(error);
        else resolve(JSON.parse(out.trim().split('\n').pop()!) as InitSample);
      }),
    );
  });
}

function summarise(results: readonly InitSample[]): InitSummary {
  return {
    samples: results.length,
    initMs: median(results.map((r) => r.initMs)),
    importMs: median(results.map((r) => r.importMs)),
    cpuMs: median(results.map((r) => r.cpuMs)),
  };
}

/**
 * Runs a bundled harness; resolves with the message it sends, rejects on error or after `timeoutMs`.
 * `env` is added to the Lambda environment (the harnesses read BENCH_* sizes from it).
 */
export function runHarness<T>(file: string, kind: 'receiver' | 'transformer', timeoutMs = 180_000, env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    // stdout (Powertools log lines and EMF metrics, as on Lambda) goes to /dev/null.
    const child = track(fork(file, [FIXTURES_DIR], { env: { ...lambdaEnv(kind), ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} harness did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (message: unknown) => {
      clearTimeout(timer);
      child.kill();
      const error = (message as { error?: string }).error;
      if (error) reject(new Error(`${kind} harness: ${error}`));
      else resolve(message as T);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} harness exited (${code}) without a result: ${stderr}`));
    });
  });
}
