/**
 * Roll-ups through `dodo-slack serve`, end to end: signed webhooks in over HTTP, a Slack
 * stand-in on 127.0.0.1 out. The stand-in counts coverage from what it answered 200: a message whose
 * top-level text says `<N> events` covers the webhook-ids its metadata lists (and N must match);
 * any other message covers the one event whose envelope timestamp it shows (`<!date^SECONDS^`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { postSignedWebhook } from '../support/signed-post';
import { buildCli, cleanEnv, FakeSlack, FIXTURES_DIR, startServe, type BuiltCli, type ServeHandle } from './cli-harness';
import { rollupMixType } from '../support/rollup-mix';

jest.setTimeout(150_000);

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const FIRST_MARKER = 1_900_000_000;
/** Event indexes the tests use are below this. */
const MARKER_RANGE = 100_000;
const fixtures = new Map<string, { data: Record<string, unknown> }>();
const fixture = (type: string) => {
  if (!fixtures.has(type)) fixtures.set(type, JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${type}.json`), 'utf8')) as { data: Record<string, unknown> });
  return fixtures.get(type)!;
};

let cli: BuiltCli;
let scratch: string;
const running: ServeHandle[] = [];
const slacks: FakeSlack[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-rollup-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((serve) => serve.process.stop('SIGKILL')));
  await Promise.all(slacks.splice(0).map((slack) => slack.stop()));
});
afterAll(() => {
  agent.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function serve(dataDir: string, slackUrl: string, ...args: string[]): Promise<ServeHandle> {
  const handle = await startServe(cli.entry, ['--data-dir', dataDir, ...args], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: slackUrl }));
  running.push(handle);
  return handle;
}

/** Event `index` (webhook-id msg_rollup_<tag>_<index>, envelope timestamp FIRST_MARKER + index), signed; resolves with the status. */
function send(url: string, tag: string, index: number, type = rollupMixType(index)): Promise<number> {
  const body = JSON.stringify({ ...fixture(type), type, timestamp: new Date((FIRST_MARKER + index) * 1000).toISOString() });
  return postSignedWebhook(url, { webhookId: `msg_rollup_${tag}_${index}`, body, secret: SECRET, agent });
}

interface Covered {
  /** Event index → how many answered-200 messages covered it. */
  readonly times: Map<number, number>;
  /** Sum of what each message says it covers (N for a roll-up, 1 otherwise). */
  readonly claimedTotal: number;
  readonly rollups: number;
  readonly singles: number;
  readonly problems: string[];
}

/** Coverage of the posts the stand-in answered with `status` (200: posted). */
function coverage(slack: FakeSlack, tag: string, status = 200): Covered {
  const times = new Map<number, number>();
  const problems: string[] = [];
  let claimedTotal = 0;
  let rollups = 0;
  let singles = 0;
  const idPattern = new RegExp(`^msg_rollup_${tag}_(\\d+)$`);
  for (const answer of slack.answered.filter((a) => a.status === status)) {
    const message = JSON.parse(answer.body) as { text: string; metadata?: { event_payload?: { webhook_ids?: string } } };
    const count = /(\d+) events/.exec(message.text);
    let indexes: number[];
    if (count) {
      rollups += 1;
      claimedTotal += Number(count[1]);
      indexes = (message.metadata?.event_payload?.webhook_ids ?? '').split(' ').map((id) => Number(idPattern.exec(id)?.[1] ?? NaN));
      if (indexes.length !== Number(count[1])) problems.push(`a roll-up says ${count[1]} events and lists ${indexes.length}`);
    } else {
      singles += 1;
      claimedTotal += 1;
      // The envelope timestamp is FIRST_MARKER + index; a message may show other dates first (a
      // subscription's next billing date, say), so take the one marker in the test's range.
      const markers = new Set(
        [...answer.body.matchAll(/<!date\^(\d+)\^/g)].map((match) => Number(match[1]) - FIRST_MARKER).filter((index) => index >= 0 && index < MARKER_RANGE),
      );
      indexes = markers.size === 1 ? [...markers] : [NaN];
    }
    for (const index of indexes) {
      if (!Number.isInteger(index)) problems.push(`unidentified event in ${answer.body.slice(0, 120)}`);
      else times.set(index, (times.get(index) ?? 0) + 1);
    }
  }
  return { times, claimedTotal, rollups, singles, problems };
}

function rollupBodies(slack: FakeSlack): { text: string; ids: string[] }[] {
  return slack.requests
    .map((r) => JSON.parse(r.body) as { text: string; metadata?: { event_payload?: { webhook_ids?: string } } })
    .filter((m) => /\d+ events/.test(m.text))
    .map((m) => ({ text: m.text, ids: (m.metadata?.event_payload?.webhook_ids ?? '').split(' ').sort() }));
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exactlyOnce = (covered: Covered, events: number) => {
  const missing = Array.from({ length: events }, (_, i) => i).filter((i) => !covered.times.has(i));
  const twice = [...covered.times.entries()].filter(([, n]) => n > 1).map(([i]) => i);
  const strangers = [...covered.times.keys()].filter((i) => i < 0 || i >= events);
  return { missing, twice, strangers, problems: covered.problems };
};

test('600 events sent over 10 s at --rate 1 are all covered exactly once, in far fewer messages; re-sent ids post nothing', async () => {
  const EVENTS = 600;
  const slack = new FakeSlack();
  slacks.push(slack);
  const slackUrl = await slack.start();
  const server = await serve(path.join(scratch, 'burst'), slackUrl, '--rate', '1', '--rollup-after', '30');

  // 60 events every second for 10 s.
  const statuses: number[] = [];
  for (let second = 0; second < 10; second++) {
    const tick = Date.now();
    statuses.push(...(await Promise.all(Array.from({ length: EVENTS / 10 }, (_, i) => send(server.url, 'burst', second * (EVENTS / 10) + i)))));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - tick))));
  }
  expect(statuses.filter((status) => status !== 200)).toEqual([]);

  // How soon they are in the channel is the benchmark's to say (burst10kTimeToChannelSeconds); the deadline here only ends a broken run.
  await waitUntil(() => coverage(slack, 'burst').times.size >= EVENTS, `${EVENTS} events covered`, 120_000);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a late duplicate would show here
  const covered = coverage(slack, 'burst');
  expect(exactlyOnce(covered, EVENTS)).toEqual({ missing: [], twice: [], strangers: [], problems: [] });
  expect(covered.claimedTotal).toBe(EVENTS);
  expect(covered.rollups).toBeGreaterThan(0);
  // Six disputes keep their own messages; far fewer messages than events in all.
  expect(covered.singles).toBeGreaterThanOrEqual(6);
  expect(covered.rollups + covered.singles).toBeLessThan(100);
  const disputes = Array.from({ length: EVENTS }, (_, i) => i).filter((i) => rollupMixType(i) === 'dispute.opened');
  const rolledUpIds = new Set(rollupBodies(slack).flatMap((r) => r.ids));
  expect(disputes.filter((i) => rolledUpIds.has(`msg_rollup_burst_${i}`))).toEqual([]);
  expect(server.process.stdout).toMatch(/roll-up #1 \(\d+ pending events\) → posted: \d+ events in one message/);

  // Dodo retries and redeliveries of covered events post nothing more.
  const before = slack.requests.length;
  const resent = Array.from({ length: 60 }, (_, i) => i * 10);
  expect(await Promise.all(resent.map((i) => send(server.url, 'burst', i)))).toEqual(resent.map(() => 200));
  await server.process.waitFor(/nothing to post: \d+ already delivered|duplicate, already delivered/, 40_000);
  await waitUntil(() => (server.process.stdout.match(/duplicate, already delivered/g)?.length ?? 0) + alreadyDelivered(server.process.stdout) >= resent.length, 'the re-sent ids handled', 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(slack.requests.length).toBe(before);
});

/** Sum of "nothing to post: N already delivered" lines. */
function alreadyDelivered(stdout: string): number {
  return [...stdout.matchAll(/nothing to post: (\d+) already delivered/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/**
 * One event posted on its own first, so the next ones pile up behind the pace and fold. The stand-in
 * holds the first post's answer (its script starts with `held: true`) until every other event is
 * accepted: serve decides between single messages and a roll-up with the whole backlog in its
 * store, however long the POSTs take on a busy machine.
 */
async function backlogBehindOne(server: ServeHandle, slack: FakeSlack, tag: string, events: number): Promise<void> {
  expect(await send(server.url, tag, 0, 'payment.succeeded')).toBe(200);
  await slack.received(1);
  const statuses = await Promise.all(Array.from({ length: events - 1 }, (_, i) => send(server.url, tag, i + 1, i % 5 === 0 ? 'payment.failed' : 'payment.succeeded')));
  expect(statuses.filter((status) => status !== 200)).toEqual([]);
  slack.release();
}

const HELD_OK = { status: 200, body: 'ok', held: true } as const;

test('a failed roll-up is retried as a whole: the same events in the retry, none posted on its own', async () => {
  const EVENTS = 20;
  const slack = new FakeSlack([HELD_OK, { status: 503, body: 'service_unavailable' }]);
  slacks.push(slack);
  const slackUrl = await slack.start();
  const server = await serve(path.join(scratch, 'retried'), slackUrl, '--rate', '1', '--rollup-after', '2', '--retry-delay-ms', '200');
  await backlogBehindOne(server, slack, 'retried', EVENTS);
  await waitUntil(() => coverage(slack, 'retried').times.size >= EVENTS, 'every event covered', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));

  expect(slack.answered.map((a) => a.status)).toEqual([200, 503, 200]);
  const [failed, retried] = rollupBodies(slack);
  expect(failed.ids).toHaveLength(EVENTS - 1);
  expect(retried.ids).toEqual(failed.ids);
  expect(exactlyOnce(coverage(slack, 'retried'), EVENTS)).toEqual({ missing: [], twice: [], strangers: [], problems: [] });
  expect(server.process.stdout).toMatch(/roll-up #1 \(19 pending events\) → will retry as a whole: Slack answered 503/);
});

test('after the last attempt a failed roll-up falls back to single messages, never both', async () => {
  const EVENTS = 12;
  const slack = new FakeSlack([HELD_OK, { status: 503, body: 'down' }, { status: 503, body: 'down' }]);
  slacks.push(slack);
  const slackUrl = await slack.start();
  const server = await serve(path.join(scratch, 'fallback'), slackUrl, '--rate', '4', '--rollup-after', '1', '--retry-delay-ms', '100', '--max-attempts', '2');
  await backlogBehindOne(server, slack, 'fallback', EVENTS);
  await waitUntil(() => coverage(slack, 'fallback').times.size >= EVENTS, 'every event covered', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const covered = coverage(slack, 'fallback');
  expect(exactlyOnce(covered, EVENTS)).toEqual({ missing: [], twice: [], strangers: [], problems: [] });
  expect(covered.rollups).toBe(0);
  expect(covered.singles).toBe(EVENTS);
  expect(rollupBodies(slack)).toHaveLength(2);
  expect(server.process.stdout).toMatch(/its events go out one by one: Slack answered 503/);
});

test('a crash mid-roll-up: the next serve resumes the roll-up as a whole, and every event is covered once', async () => {
  const EVENTS = 25;
  // The roll-up's answer is held: serve is killed while Slack has not said ok.
  const slack = new FakeSlack([HELD_OK, { status: 200, body: 'ok', held: true }]);
  slacks.push(slack);
  const slackUrl = await slack.start();
  const dataDir = path.join(scratch, 'crashed');
  const first = await serve(dataDir, slackUrl, '--rate', '1', '--rollup-after', '2');
  await backlogBehindOne(first, slack, 'crashed', EVENTS);
  await slack.received(2, 10_000);
  await first.process.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 100));
  slack.release(); // to a dead connection: not posted

  const second = await serve(dataDir, slackUrl, '--rate', '1', '--rollup-after', '2');
  expect(second.process.stdout).toMatch(new RegExp(`resuming ${EVENTS - 1} pending event\\(s\\)`));
  await waitUntil(() => coverage(slack, 'crashed').times.size >= EVENTS, 'every event covered', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(exactlyOnce(coverage(slack, 'crashed'), EVENTS)).toEqual({ missing: [], twice: [], strangers: [], problems: [] });
  const [cut, resumed] = rollupBodies(slack);
  expect(resumed.ids).toEqual(cut.ids);
  expect(second.process.stdout).toMatch(/roll-up #1 \(24 pending events\) → posted: 24 events in one message \(attempt 2/);
});

test("serve --transform with the Dodo dashboard's payment_notifs.js: a burst of 30 posts 30 messages from that code and no roll-up, where the built-in templates fold", async () => {
  const EVENTS = 30;
  const transform = path.join(__dirname, '..', 'fixtures', 'dashboard', 'payment_notifs.js');
  const burst = async (tag: string, ...args: string[]): Promise<FakeSlack> => {
    const slack = new FakeSlack([HELD_OK]);
    slacks.push(slack);
    const server = await serve(path.join(scratch, tag), await slack.start(), '--rate', '2', '--rollup-after', '1', ...args);
    await backlogBehindOne(server, slack, tag, EVENTS);
    return slack;
  };

  // The same burst with the built-in templates folds: the backlog would wait 15 s at 2 messages/s.
  const builtin = await burst('builtin-burst');
  await waitUntil(() => coverage(builtin, 'builtin-burst').times.size >= EVENTS, 'every event covered', 30_000);
  expect(coverage(builtin, 'builtin-burst').rollups).toBeGreaterThan(0);

  const code = await burst('code-burst', '--transform', transform);
  await waitUntil(() => code.answered.filter((answer) => answer.status === 200).length >= EVENTS, `${EVENTS} posts`, 40_000);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a roll-up or a duplicate would show here
  const texts = code.answered.filter((answer) => answer.status === 200).map((answer) => (JSON.parse(answer.body) as { text: string }).text);
  expect(texts).toHaveLength(EVENTS);
  expect(texts.filter((text) => /\d+ events/.test(text))).toEqual([]);
  // Every message is the code's: its three kinds, with the event's own amount.
  expect(texts.every((text) => /^(✅ Payment Successful|❌ Payment Failed)\nAmount: \$\d+\.\d\d\n/.test(text))).toBe(true);
  expect(texts.filter((text) => text.startsWith('❌ Payment Failed'))).toHaveLength(6);
});
