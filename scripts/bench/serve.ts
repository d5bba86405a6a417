/**
 * `dodo-slack serve` end to end, as a child process: signed events in over HTTP, Slack messages out
 * to a Slack stand-in on 127.0.0.1 run by this process. Every event carries a unique envelope
 * timestamp, which the built-in templates render as `<!date^SECONDS^…>`; the stand-in reads it
 * back to tell events apart, so "delivered exactly once" is checked per event.
 *
 * Roll-ups stand for many events: the stand-in reads the webhook-ids a roll-up lists in
 * its metadata (each event's webhook-id is `msg_bench_<run>_<index>`), checks that the top-level
 * text's `<N> events` says as many, and counts each listed event as covered by that message. An
 * event covered by two messages (a roll-up and its own, or two roll-ups) is a duplicate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderBuiltinMessage } from '../../lambda/messages/templates';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { newSigningSecret, percentile, signedHeaders, type Fixture } from './fixtures';
import { track } from './processes';

/** Envelope timestamps start here (2030-03-17), far from any date inside the fixtures. */
const FIRST_MARKER_SECONDS = 1_900_000_000;
const MARKER = /<!date\^(\d+)\^/g;
const ROLLUP_COUNT = /(\d+) events/;

/** The fixtures whose built-in message shows the envelope timestamp (the marker); all of them, normally. */
export function markableFixtures(fixtures: readonly Fixture[]): { usable: Fixture[]; unusable: string[] } {
  const usable: Fixture[] = [];
  const unusable: string[] = [];
  for (const fixture of fixtures) {
    const envelope = { ...fixture.envelope, timestamp: new Date(FIRST_MARKER_SECONDS * 1000).toISOString() } as unknown as DodoWebhookEnvelope;
    const text = JSON.stringify(renderBuiltinMessage(envelope));
    if (text.includes(`<!date^${FIRST_MARKER_SECONDS}^`)) usable.push(fixture);
    else unusable.push(fixture.name);
  }
  return { usable, unusable };
}

export type SlackBehaviour = { readonly kind: 'instant' } | { readonly kind: 'token-bucket'; readonly ratePerSecond: number; readonly burst: number };

/** Slack incoming webhook stand-in: 200 "ok", or a token bucket answering 429 + Retry-After when empty. */
class SlackStandIn {
  readonly deliveredAt: number[];
  readonly deliveries: Uint16Array;
  unidentified = 0;
  tooManyRequests = 0;
  /** Messages answered 200, and how many of them were roll-ups. */
  messages = 0;
  rollups = 0;
  private tokens: number;
  private refilledAt = performance.now();
  private server: Server | undefined;
  private waiters = new Map<number, () => void>();

  constructor(private readonly events: number, private readonly behaviour: SlackBehaviour, private readonly webhookIdPrefix: string) {
    this.deliveredAt = new Array<number>(events).fill(Number.NaN);
    this.deliveries = new Uint16Array(events);
    this.tokens = behaviour.kind === 'token-bucket' ? behaviour.burst : 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (this.behaviour.kind === 'token-bucket') {
          const now = performance.now();
          this.tokens = Math.min(this.behaviour.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.behaviour.ratePerSecond);
          this.refilledAt = now;
          if (this.tokens < 1) {
            this.tooManyRequests += 1;
            const retryAfter = Math.max(1, Math.ceil((1 - this.tokens) / this.behaviour.ratePerSecond));
            res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(retryAfter) }).end('rate_limited');
            return;
          }
          this.tokens -= 1;
        }
        this.record(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'text/html' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/services/T0BENCH00/B0BENCH00/benchbenchbenchbenchbench`;
  }

  /** Resolves when event `index` has been delivered (at once if it already was), or after `timeoutMs`. */
  delivered(index: number, timeoutMs: number): Promise<void> {
    if (this.deliveries[index] > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(index);
        resolve();
      }, timeoutMs);
      this.waiters.set(index, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get deliveredCount(): number {
    let count = 0;
    for (const deliveries of this.deliveries) if (deliveries > 0) count += 1;
    return count;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private cover(index: number): void {
    this.deliveries[index] += 1;
    if (this.deliveries[index] === 1) this.deliveredAt[index] = performance.now();
    this.waiters.get(index)?.();
    this.waiters.delete(index);
  }

  private record(body: string): void {
    this.messages += 1;
    let message: { text?: unknown; metadata?: { event_type?: unknown; event_payload?: { webhook_ids?: unknown } } } | undefined;
    try {
      message = JSON.parse(body) as typeof message;
    } catch {
      this.unidentified += 1;
      return;
    }
    const said = typeof message?.text === 'string' ? ROLLUP_COUNT.exec(message.text) : null;
    if (said) {
      this.rollups += 1;
      const listed = typeof message?.metadata?.event_payload?.webhook_ids === 'string' ? message.metadata.event_payload.webhook_ids.split(' ').filter((id) => id !== '') : [];
      // The text's count and the listed ids must agree, or the message is not what it says.
      if (listed.length !== Number(said[1])) this.unidentified += 1;
      for (const id of listed) {
        const index = id.startsWith(this.webhookIdPrefix) ? Number(id.slice(this.webhookIdPrefix.length)) : Number.NaN;
        if (Number.isInteger(index) && index >= 0 && index < this.events) this.cover(index);
        else this.unidentified += 1;
      }
      return;
    }
    for (const match of body.matchAll(MARKER)) {
      const index = Number(match[1]) - FIRST_MARKER_SECONDS;
      if (index >= 0 && index < this.events) {
        this.cover(index);
        return;
      }
    }
    this.unidentified += 1;
  }
}

export interface ServeRunOptions {
  readonly cli: string;
  readonly fixtures: readonly Fixture[];
  readonly events: number;
  readonly rate: number;
  /** Passed as --burst only when the CLI has that option. */
  readonly burst?: number;
  readonly slack: SlackBehaviour;
  /**
   * closed: at most `concurrency` events in flight end to end (sent, not yet in Slack).
   * burst: every event posted at once (`concurrency` connections), as a backlog Dodo flushes.
   */
  readonly load: 'closed' | 'burst';
  readonly concurrency: number;
  readonly deadlineMs: number;
  /** Which fixture event `index` is. @default the fixtures in turn */
  readonly pick?: (index: number) => Fixture;
  /** More serve flags, e.g. `--rollup-after 30`. */
  readonly extraArgs?: readonly string[];
}

export interface ServeRunResult {
  readonly delivered: number;
  readonly exactlyOnce: boolean;
  readonly duplicates: number;
  readonly unidentified: number;
  readonly tooManyRequests: number;
  readonly notAccepted: number;
  /** First POST to the last first delivery. */
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Per event: POST started -> message in the Slack stand-in. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Per event: POST started -> webhook answered (what Dodo waits for). */
  readonly answerP99Ms: number;
  readonly peakRssMb: number | null;
  readonly burstOptionUsed: boolean;
  readonly summaryLine: string | undefined;
  readonly timedOut: boolean;
  /** Messages Slack answered 200, and how many of them were roll-ups. */
  readonly messages: number;
  readonly rollups: number;
}

/** The CLI's usage text, so the benchmark can drive an older build of it (for before/after figures) too. */
function cliUsage(cli: string): Promise<string> {
  return new Promise((resolve) => {
    const child = track(spawn(process.execPath, [cli, '--help'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }));
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.on('close', () => resolve(text));
    child.on('error', () => resolve(''));
  });
}

export async function runServe(options: ServeRunOptions): Promise<ServeRunResult> {
  const webhookIdPrefix = `msg_bench_${process.pid.toString(36)}${Date.now().toString(36)}_`;
  const slack = new SlackStandIn(options.events, options.slack, webhookIdPrefix);
  const slackUrl = await slack.start();
  const work = mkdtempSync(path.join(tmpdir(), 'dodo-slack-bench-'));
  const { secret, key } = newSigningSecret();
  const usage = await cliUsage(options.cli);
  const burstOptionUsed = options.burst !== undefined && /--burst\b/.test(usage);
  // Builds before the durable store kept dead letters in a file instead of a --data-dir.
  const storage = /--data-dir\b/.test(usage) ? ['--data-dir', path.join(work, 'data')] : ['--dead-letter-file', path.join(work, 'dead-letters.jsonl')];
  const args = [options.cli, 'serve', '--port', '0', '--host', '127.0.0.1', '--rate', String(options.rate), ...storage];
  if (burstOptionUsed) args.push('--burst', String(options.burst));
  args.push(...(options.extraArgs ?? []));
  const child = track(spawn(process.execPath, args, {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', DODO_WEBHOOK_SECRET: secret, SLACK_WEBHOOK_URL: slackUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stderr.on('data', keep);

  let peakRssKb = 0;
  const sampleRss = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
    } catch {
      // Not Linux, or the process has exited: keep the last sample.
    }
  };
  const rssTimer = setInterval(sampleRss, 200);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });

  try {
    const url = await waitForListening(child, keep, 30_000);
    const started = new Array<number>(options.events).fill(Number.NaN);
    const answered = new Array<number>(options.events).fill(Number.NaN);
    let notAccepted = 0;
    const deadline = performance.now() + options.deadlineMs;
    const post = async (index: number): Promise<void> => {
      const fixture = options.pick ? options.pick(index) : options.fixtures[index % options.fixtures.length];
      const body = eventBody(fixture, index);
      started[index] = performance.now();
      const status = await postWebhook(agent, url, body, signedHeaders(key, body, `${webhookIdPrefix}${index}`), Math.max(1, deadline - performance.now()));
      answered[index] = performance.now();
      if (status !== 200) notAccepted += 1;
    };

    await postInTurn(0, options.events, options.concurrency, deadline, async (index) => {
      await post(index);
      if (options.load === 'closed') await slack.delivered(index, Math.max(0, deadline - performance.now()));
    });
    while (slack.deliveredCount < options.events && performance.now() < deadline) await sleep(20);
    const timedOut = slack.deliveredCount < options.events;
    // Late duplicates would arrive now.
    await sleep(500);
    sampleRss();

    const first = Math.min(...started.filter(Number.isFinite));
    const last = Math.max(...slack.deliveredAt.filter(Number.isFinite));
    const latencies = slack.deliveredAt.map((at, index) => at - started[index]).filter(Number.isFinite);
    const answerTimes = answered.map((at, index) => at - started[index]).filter(Number.isFinite);
    let duplicates = 0;
    for (const deliveries of slack.deliveries) if (deliveries > 1) duplicates += deliveries - 1;
    const delivered = slack.deliveredCount;
    const seconds = (last - first) / 1000;
    const summary = await stopServe(child, keep, output);
    return {
      delivered,
      exactlyOnce: delivered === options.events && duplicates === 0 && slack.unidentified === 0,
      duplicates,
      unidentified: slack.unidentified,
      tooManyRequests: slack.tooManyRequests,
      notAccepted,
      seconds,
      eventsPerSecond: delivered / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      answerP99Ms: percentile(answerTimes, 99),
      peakRssMb: peakRssKb > 0 ? peakRssKb / 1024 : null,
      burstOptionUsed,
      summaryLine: summary,
      timedOut,
      messages: slack.messages,
      rollups: slack.rollups,
    };
  } catch (error) {
    const tail = output.slice(-15).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nlast serve output:\n${tail}`, { cause: error });
  } finally {
    clearInterval(rssTimer);
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await slack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The baseline of serveVsNodeHttp: the same client as {@link runServe}'s closed loop
 * (`concurrency` keep-alive connections, every event signed and posted as there), against a bare
 * `node:http` server in its own process that reads each body and answers 200 at once, doing
 * nothing else. What serve does per event (verify, store, deliver to Slack) is the difference.
 */
export async function runBareHttp(options: {
  readonly fixtures: readonly Fixture[];
  readonly events: number;
  /** Posted first and not timed: the client's and the server's JIT warm up, the connections open. */
  readonly warmupEvents: number;
  readonly concurrency: number;
  readonly deadlineMs: number;
}): Promise<{ readonly eventsPerSecond: number; readonly notAccepted: number }> {
  const server = `require('node:http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"received":true}'); }); })
    .listen(0, '127.0.0.1', function () { process.stdout.write('listening on http://127.0.0.1:' + this.address().port + '/webhooks/dodo\\n'); });`;
  const child = track(spawn(process.execPath, ['-e', server], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const { key } = newSigningSecret();
  try {
    const url = await waitForListening(child, () => {}, 30_000);
    const deadline = performance.now() + options.deadlineMs;
    let notAccepted = 0;
    let answered = 0;
    const post = async (index: number): Promise<void> => {
      const body = eventBody(options.fixtures[index % options.fixtures.length], index);
      const status = await postWebhook(agent, url, body, signedHeaders(key, body, `msg_bare_${index}`), Math.max(1, deadline - performance.now()));
      if (status === 200) answered += 1;
      else notAccepted += 1;
    };
    await postInTurn(0, options.warmupEvents, options.concurrency, deadline, post);
    answered = 0;
    const started = performance.now();
    await postInTurn(options.warmupEvents, options.warmupEvents + options.events, options.concurrency, deadline, post);
    const seconds = (performance.now() - started) / 1000;
    if (answered < options.events) throw new Error(`bare node:http server answered ${answered}/${options.events} within ${options.deadlineMs} ms`);
    return { eventsPerSecond: answered / seconds, notAccepted };
  } finally {
    agent.destroy();
    child.kill('SIGKILL');
  }
}

/** Event `index` as every run posts it: its fixture with its own envelope timestamp (the stand-in's marker). */
function eventBody(fixture: Fixture, index: number): string {
  return JSON.stringify({ ...fixture.envelope, timestamp: new Date((FIRST_MARKER_SECONDS + index) * 1000).toISOString() });
}

/** Events `from` to `to` (exclusive), each handed to `each` by one of `concurrency` workers in turn, until done or the deadline. */
async function postInTurn(from: number, to: number, concurrency: number, deadline: number, each: (index: number) => Promise<void>): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to && performance.now() < deadline) await each(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function waitForListening(child: ChildProcess, keep: (chunk: Buffer) => void, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start listening within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (text.length < 10_000) text += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        text = '\u0000'.repeat(10_000);
        resolve(match[1]);
      }
    });
  });
}

/** SIGTERM (serve drains and prints its summary), SIGKILL after 10 s. Returns serve's summary line. */
async function stopServe(child: ChildProcess, keep: (chunk: Buffer) => void, output: string[]): Promise<string | undefined> {
  child.stdout!.removeAllListeners('data');
  child.stdout!.on('data', keep);
  // A serve that already exited (it crashed, or refused to start a second time) would never emit 'exit' again.
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited during the run (${child.exitCode ?? child.signalCode})`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
  return output.find((line) => line.startsWith('summary:'));
}

function postWebhook(agent: Agent, url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }, timeout: timeoutMs }, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
