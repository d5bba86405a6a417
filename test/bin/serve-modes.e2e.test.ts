/**
 * Test mode and live mode through `dodo-slack serve` as users run it: DODO_WEBHOOK_SECRET holds the
 * live dashboard's key and the test dashboard's (`live:whsec_A test:whsec_B`), events are sent with
 * `dodo-slack send` signed by one or the other, Slack is a stand-in. The event signed with B arrives
 * marked TEST, the one signed with A as before; the day's summary counts the live event only and
 * says it left the test event out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCli, cleanEnv, FakeSlack, runCli, startServe, type BuiltCli } from './cli-harness';
import { dodoEvent } from '../support/summary-events';

jest.setTimeout(60_000);

const KEY_A = `whsec_${randomBytes(32).toString('base64')}`;
const KEY_B = `whsec_${randomBytes(32).toString('base64')}`;
let cli: BuiltCli;
let work: string;

beforeAll(() => {
  cli = buildCli();
  work = mkdtempSync(path.join(tmpdir(), 'dodo-slack-modes-e2e-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function payload(name: string, amount: number): string {
  const file = path.join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00.000Z', currency: 'JPY', amount })));
  return file;
}

test('signed with the test key: posted marked TEST and left out of the summary; signed with the live key: as before', async () => {
  const slack = new FakeSlack();
  const slackUrl = await slack.start();
  const dataDir = path.join(work, 'data');
  const serve = await startServe(cli.entry, ['--data-dir', dataDir, '--rate', '1000', '--burst', '100', '--rollup-after', 'off'], cleanEnv({ DODO_WEBHOOK_SECRET: `live:${KEY_A} test:${KEY_B}`, SLACK_WEBHOOK_URL: slackUrl }));
  try {
    const sentTest = await runCli(cli.entry, ['send', payload('test', 99_999), '--url', serve.url, '--secret', `test:${KEY_B}`, '--webhook-id', 'msg_mode_test']);
    expect([sentTest.code, sentTest.stdout]).toEqual([0, expect.stringContaining('200')]);
    expect(sentTest.stderr).toContain('signed with a test-mode key');
    await slack.received(1);
    const sentLive = await runCli(cli.entry, ['send', payload('live', 1000), '--url', serve.url, '--secret', KEY_A, '--webhook-id', 'msg_mode_live']);
    expect(sentLive.code).toBe(0);
    await slack.received(2);
  } finally {
    expect(await serve.process.stop('SIGTERM')).toBe(0);
    await slack.stop();
  }

  const [testPost, livePost] = slack.requests.map((request) => JSON.parse(request.body) as { text: string; attachments: { blocks: { type: string; block_id?: string; elements?: { text: string }[] }[] }[] });
  expect(testPost.text).toMatch(/^\[TEST\] /);
  expect(testPost.text).toContain('¥99,999');
  expect(testPost.attachments[0].blocks[0]).toMatchObject({ type: 'context', elements: [{ text: expect.stringContaining('TEST MODE') as unknown }] });
  expect(livePost.text).not.toContain('TEST');
  expect(JSON.stringify(livePost)).not.toContain('TEST MODE');
  expect(livePost.text).toContain('¥1,000');
  // The same template both times: the test post is the live one's layout with the marker on top.
  expect(testPost.attachments[0].blocks.slice(1).map((block) => block.type)).toEqual(livePost.attachments[0].blocks.map((block) => block.type));

  const summary = await runCli(cli.entry, ['summary', '--data-dir', dataDir, '--period', 'day', '--date', '2026-12-01']);
  expect([summary.code, summary.stderr]).toEqual([0, '']);
  const message = JSON.parse(summary.stdout) as { text: string };
  expect(message.text).toBe('Daily summary · Tue 1 Dec 2026: 1 payment · net ¥1,000');
  expect(summary.stdout).toContain('1 test-mode event left out');
  expect(summary.stdout).toContain('· 1 event ·');
  expect(summary.stdout).not.toContain('99,999');
});

test('a mistyped label is said at start by position, never with the key, and that key verifies nothing', async () => {
  const dataDir = path.join(work, 'typo');
  const serve = await startServe(cli.entry, ['--data-dir', dataDir], cleanEnv({ DODO_WEBHOOK_SECRET: `${KEY_A} tset:${KEY_B}` }));
  try {
    const output = `${serve.process.stdout}${serve.process.stderr}`;
    expect(output).toMatch(/signing key #2 of 2 has an unknown mode label/);
    for (const key of [KEY_A, KEY_B]) expect(output).not.toContain(key.slice('whsec_'.length, 'whsec_'.length + 12));
    const refused = await runCli(cli.entry, ['send', payload('typo', 5), '--url', serve.url, '--secret', `test:${KEY_B}`]);
    expect([refused.code, refused.stdout]).toEqual([1, expect.stringContaining('401')]);
  } finally {
    await serve.process.stop('SIGTERM');
  }
});
