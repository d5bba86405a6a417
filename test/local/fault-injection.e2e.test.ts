/**
 * The SQLite engine under faults, as it ships: `dodo-slack serve` (the CLI, a child process) takes
 * 120 signed events while the Slack stand-in answers each post by a seeded schedule (500, 503,
 * connection reset, an answer later than serve waits, 429 with Retry-After), and is killed with
 * SIGKILL in the middle of a post, then started again on the same data dir. Events whose POST got no
 * answer are sent again with the same webhook-id, as Dodo retries. Every event must end delivered
 * exactly once or dead-lettered with its reason: zero lost, zero duplicated.
 *
 * Deterministic: which answer each post of each event gets is fixed by the seed (faulty-slack.ts),
 * not by timing, and the kill lands while the stand-in holds a post it has not answered (so Slack
 * never had it; a post Slack took whose answer a crash lost would be posted again, as the README
 * says of incoming webhooks).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { buildCli, cleanEnv, FIXTURES_DIR, runCli, startServe, type BuiltCli, type ServeHandle } from '../bin/cli-harness';
import { FaultySlack, faultOf, type Fault } from '../support/faulty-slack';

const EVENTS = 120;
const SEED = 'serve-faults-1';
const MAX_ATTEMPTS = 5;
/** The post during which serve is killed. */
const KILL_AT_POST = 40;
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const signer = new Webhook(SECRET);
const template = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };
const ids = Array.from({ length: EVENTS }, (_, index) => `pay_fault_${index}`);

let cli: BuiltCli;
let scratch: string;
beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-faults-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('the seed gives every kind of fault among the first posts', () => {
  const first = new Set<Fault>(ids.map((id) => faultOf(SEED, id, 1)));
  expect([...first].sort()).toEqual(['429', '500', '503', 'ok', 'reset', 'slow']);
});

test('120 events, seeded Slack faults, SIGKILL mid-post and a restart: each delivered exactly once or dead-lettered with its reason', async () => {
  const dataDir = path.join(scratch, 'data');
  let serve: ServeHandle | undefined;
  let killed!: () => void;
  const wasKilled = new Promise<void>((resolve) => (killed = resolve));
  const slack = await new FaultySlack({
    seed: SEED,
    keyOf: (body) => /pay_fault_\d+/.exec(body)?.[0],
    // serve waits 5 s for Slack (its default slackTimeout).
    slowMs: 6000,
    holdAt: { request: KILL_AT_POST, onHeld: () => void serve!.process.stop('SIGKILL').then(() => killed()) },
  }).start();
  const args = ['--data-dir', dataDir, '--rate', '1000', '--burst', '1000', '--max-attempts', String(MAX_ATTEMPTS), '--retry-delay-ms', '50', '--rollup-after', 'off'];
  const env = cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: slack.url() });
  const outputs: string[] = [];
  try {
    serve = await startServe(cli.entry, args, env);

    // The client is Dodo: every event is sent until serve answers it 200 (a refused connection or a
    // reset while serve is down is retried with the same webhook-id).
    const sending = sendAll(() => serve?.url);
    await wasKilled;
    outputs.push(serve.process.stdout);
    slack.release();
    serve = await startServe(cli.entry, args, env);
    expect(serve.process.stdout).toMatch(/resuming \d+ pending event\(s\)/);
    await sending;

    // Done when every event is delivered or its dead letter is announced.
    const deadLettered = () => new Set([...outputs, serve!.process.stdout].join('').match(/msg_pay_fault_\d+(?= payment\.succeeded → dead-lettered)/g)?.map((id) => id.slice('msg_'.length)) ?? []);
    const deadline = Date.now() + 100_000;
    while (new Set([...slack.delivered, ...deadLettered()]).size < EVENTS) {
      if (Date.now() > deadline) throw new Error(`not settled: ${slack.delivered.length} delivered, ${deadLettered().size} dead-lettered\n${serve.process.stdout.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show up here
    expect(await serve.process.stop('SIGTERM')).toBe(0);
    serve = undefined;
  } finally {
    await serve?.process.stop('SIGKILL');
    await slack.stop();
  }

  const exported = await runCli(cli.entry, ['dead-letters', 'export', '--data-dir', dataDir], { env: cleanEnv() });
  expect(exported.code).toBe(0);
  const deadLetters = exported.stdout.trim() === '' ? [] : exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { webhookId: string; reason: string; attempts: number; lastSlackResponse: string | null; body: string });
  const deadIds = deadLetters.map((letter) => letter.webhookId.slice('msg_'.length));

  const deliveredTwice = slack.delivered.filter((id, index) => slack.delivered.indexOf(id) !== index);
  const both = deadIds.filter((id) => slack.delivered.includes(id));
  const lost = ids.filter((id) => !slack.delivered.includes(id) && !deadIds.includes(id));
  console.log(`serve fault injection: ${JSON.stringify({ events: EVENTS, delivered: slack.delivered.length, deadLettered: deadIds.length, posts: slack.requests, faults: slack.tally() })}`);
  expect({ lost, deliveredTwice, both, unrecognised: slack.unrecognised }).toEqual({ lost: [], deliveredTwice: [], both: [], unrecognised: [] });
  expect(new Set(deadIds).size).toBe(deadIds.length);
  for (const letter of deadLetters) {
    expect(letter.reason).toMatch(/Slack (answered 5\d\d|request failed)/);
    expect(letter.lastSlackResponse).toEqual(expect.any(String));
    expect(letter.body).toContain(letter.webhookId.slice('msg_'.length));
  }
  // Every fault the schedule holds for a first post was met (the kill and restart in between).
  const tally = slack.tally();
  for (const fault of ['500', '503', 'reset', 'slow', '429'] as const) expect(tally[fault]).toBeGreaterThan(0);
}, 150_000);

/** Posts every event until serve answers 200; `url()` is the serve running now (undefined while it restarts). */
async function sendAll(url: () => string | undefined): Promise<void> {
  const queue = [...ids];
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const body = JSON.stringify({ ...template, data: { ...template.data, payment_id: id } });
      for (;;) {
        const target = url();
        const status = target === undefined ? 0 : await post(target, `msg_${id}`, body).catch(() => 0);
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

async function post(url: string, webhookId: string, body: string): Promise<number> {
  const timestamp = new Date();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signer.sign(webhookId, timestamp, body),
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}
