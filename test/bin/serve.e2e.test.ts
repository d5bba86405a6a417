import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { exportDeadLetters } from '../../lambda/local/dead-letters';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import { buildCli, cleanEnv, FakeSlack, FIXTURES_DIR, runCli, startServe, type BuiltCli, type ServeHandle } from './cli-harness';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

let cli: BuiltCli;
let scratch: string;
const running: ServeHandle[] = [];
const slacks: FakeSlack[] = [];

beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-serve-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((serve) => serve.process.stop('SIGKILL')));
  await Promise.all(slacks.splice(0).map((slack) => slack.stop()));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let dataDirCount = 0;
/** A fresh --data-dir for one serve (tests never write into the repository). */
function dataDir(): string {
  dataDirCount += 1;
  return path.join(scratch, `data-${dataDirCount}`);
}

/** The dead letters of a data dir, as `dodo-slack dead-letters export` prints them. */
function deadLettersIn(dir: string): Record<string, unknown>[] {
  const { text } = exportDeadLetters(dir);
  return (text ?? '').trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function fakeSlack(script: { status: number; body: string; delayMs?: number; held?: boolean }[] = []): Promise<{ slack: FakeSlack; url: string }> {
  const slack = new FakeSlack(script);
  slacks.push(slack);
  return { slack, url: await slack.start() };
}

async function serve(args: readonly string[], env: Record<string, string>): Promise<ServeHandle> {
  const handle = await startServe(cli.entry, ['--rate', '100', '--retry-delay-ms', '50', ...args], cleanEnv(env));
  running.push(handle);
  return handle;
}

function send(payload: string, url: string, ...extra: string[]) {
  return runCli(cli.entry, ['send', payload, '--url', url, ...extra]);
}

describe('dodo-slack send', () => {
  it('signs exactly like Dodo: the standardwebhooks library verifies it, the body is the file byte for byte', async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(202, { 'content-type': 'text/plain' });
        response.end('thanks');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const file = path.join(FIXTURES_DIR, 'refund.succeeded.json');
      const before = Math.floor(Date.now() / 1000);
      const [first, second] = [await send(file, url, '--secret', SECRET), await send(file, url, '--secret', SECRET)];
      expect(first.code).toBe(0);
      expect(first.stdout).toBe('202 Accepted\nthanks\n');
      expect(second.code).toBe(0);
      expect(received).toHaveLength(2);
      const oracle = new Webhook(SECRET);
      for (const request of received) {
        expect(request.body.equals(readFileSync(file))).toBe(true);
        const headers = {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        };
        expect(() => oracle.verify(request.body, headers)).not.toThrow();
        expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
        expect(Number(headers['webhook-timestamp'])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
        expect(request.headers['content-type']).toBe('application/json');
      }
      // A fresh webhook-id per send, as Dodo sends one per event.
      expect(received[0]?.headers['webhook-id']).not.toBe(received[1]?.headers['webhook-id']);
      expect(first.stderr).toContain(String(received[0]?.headers['webhook-id']));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('takes the secret from DODO_WEBHOOK_SECRET, needs --url, and explains an unreachable endpoint', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const [noUrl, noSecret, unreachable] = await Promise.all([
      runCli(cli.entry, ['send', 'payment.succeeded'], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) }),
      runCli(cli.entry, ['send', 'payment.succeeded', '--url', 'http://127.0.0.1:9/webhooks/dodo']),
      runCli(cli.entry, ['send', 'payment.succeeded', '--url', `http://127.0.0.1:${closedPort}/webhooks/dodo`], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) }),
    ]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/send needs --url/);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/--secret whsec_… or DODO_WEBHOOK_SECRET/);
    // The secret got past validation (it came from the environment); only the connection failed.
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`could not reach http://127.0.0.1:${closedPort}: ECONNREFUSED`);
    expect(unreachable.stderr).not.toContain(SECRET);
  });
});

describe('dodo-slack serve', () => {
  it('accepts a sent webhook (200) and prints the message when SLACK_WEBHOOK_URL is unset', async () => {
    const server = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET });
    const result = await send('payment.succeeded', server.url, '--secret', SECRET);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('200 OK\n{"received":true}\n');
    const [line] = await server.process.waitFor(/^.*payment\.succeeded → delivered.*$/m);
    expect(line).toMatch(/^\d\d:\d\d:\d\d msg_\S+ payment\.succeeded → delivered \(attempt 1, \d+ ms\)$/);
    expect(server.process.stdout).toMatch(/payment\.succeeded ← 200 accepted \(\d+ ms\)/);
    // The terminal rendering of the built-in message.
    expect(server.process.stdout).toContain('Payment succeeded: $29.99 from Ada Lovelace');
    expect(server.process.stdout).toContain('SLACK_WEBHOOK_URL is not set');
  });

  it('posts to a Slack stand-in, retries after a 500 and then delivers once', async () => {
    const { slack, url } = await fakeSlack([{ status: 500, body: 'rollup_error' }]);
    const server = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    expect((await send('dispute.opened', server.url, '--secret', SECRET)).code).toBe(0);
    await server.process.waitFor(/dispute\.opened → delivered \(attempt 2/);
    expect(slack.requests).toHaveLength(2);
    expect(server.process.stdout).toMatch(/dispute\.opened → will retry: Slack answered 500 rollup_error \(attempt 1/);
    const posted = JSON.parse(slack.requests[1]?.body ?? '') as { text: string };
    expect(validateSlackMessage(posted)).toEqual([]);
    expect(posted.text).toMatch(/^Dispute opened/);
    expect(slack.requests[1]?.headers['content-type']).toMatch(/^application\/json/);
    // The Slack URL and the signing key are credentials: never printed.
    expect(server.process.stdout + server.process.stderr).not.toContain(url);
    expect(server.process.stdout + server.process.stderr).not.toContain(SECRET);
  });

  it('writes a dead letter with the reason when Slack answers 404 channel_not_found on every attempt', async () => {
    const gone = { status: 404, body: 'channel_not_found' };
    const { slack, url } = await fakeSlack([gone, gone]);
    const dir = dataDir();
    const server = await serve(['--data-dir', dir, '--max-attempts', '2'], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    const sent = await send('payment.failed', server.url, '--secret', SECRET);
    expect(sent.code).toBe(0);
    await server.process.waitFor(/payment\.failed → dead-lettered/);
    // SLACK_WEBHOOK_URL cannot change while serve runs: a "gone" URL is dead-lettered at once, not retried.
    expect(slack.requests).toHaveLength(1);
    const deadLetters = deadLettersIn(dir);
    expect(deadLetters).toEqual([
      {
        id: expect.any(Number) as unknown,
        route: 'default',
        webhookId: sent.stderr.match(/webhook-id (\S+)/)?.[1],
        webhookTimestamp: expect.stringMatching(/^\d+$/) as unknown,
        type: 'payment.failed',
        mode: 'live',
        reason: expect.stringContaining('404 channel_not_found') as unknown,
        attempts: 1,
        lastSlackResponse: '404 channel_not_found',
        receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
        body: readFileSync(path.join(FIXTURES_DIR, 'payment.failed.json'), 'utf8'),
      },
    ]);
    expect(JSON.stringify(deadLetters)).not.toContain(url);
    // The store holds whole bodies with customer emails: private to its owner.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'dodo-slack.db')).mode & 0o777).toBe(0o600);
  });

  it('dead-letters after --max-attempts when Slack keeps failing, and keeps every dead letter in the store', async () => {
    const { slack, url } = await fakeSlack([
      { status: 503, body: 'unavailable' },
      { status: 503, body: 'unavailable' },
      { status: 400, body: 'invalid_payload' },
    ]);
    const dir = dataDir();
    const server = await serve(['--data-dir', dir, '--max-attempts', '2'], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    await send('subscription.renewed', server.url, '--secret', SECRET);
    await server.process.waitFor(/subscription\.renewed → dead-lettered/);
    await send('refund.failed', server.url, '--secret', SECRET);
    await server.process.waitFor(/refund\.failed → dead-lettered/);
    expect(slack.requests).toHaveLength(3);
    const deadLetters = deadLettersIn(dir);
    expect(deadLetters.map(({ type, attempts, lastSlackResponse }) => ({ type, attempts, lastSlackResponse }))).toEqual([
      { type: 'subscription.renewed', attempts: 2, lastSlackResponse: '503 unavailable' },
      { type: 'refund.failed', attempts: 1, lastSlackResponse: '400 invalid_payload' },
    ]);
  });

  it('posts a re-sent webhook-id once (deduplication)', async () => {
    const { slack, url } = await fakeSlack();
    const server = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    const first = await send('payment.succeeded', server.url, '--secret', SECRET, '--webhook-id', 'msg_dodo_retry_1');
    await server.process.waitFor(/msg_dodo_retry_1 payment\.succeeded → delivered/);
    const again = await send('payment.succeeded', server.url, '--secret', SECRET, '--webhook-id', 'msg_dodo_retry_1');
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(again.stdout).toBe('200 OK\n{"received":true}\n');
    await server.process.waitFor(/msg_dodo_retry_1 payment\.succeeded → duplicate/);
    expect(slack.requests).toHaveLength(1);
  });

  it('answers 401 to a bad signature and posts nothing; ignores filtered event types', async () => {
    const { slack, url } = await fakeSlack();
    const server = await serve(['--data-dir', dataDir(), '--events', 'dispute.*,refund.*'], {
      DODO_WEBHOOK_SECRET: `${OTHER_SECRET} ${SECRET}`,
      SLACK_WEBHOOK_URL: url,
    });
    const forged = await send('dispute.opened', server.url, '--secret', `whsec_${randomBytes(24).toString('base64')}`);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toBe('401 Unauthorized\n{"error":"invalid signature"}\n');
    const filtered = await send('payment.succeeded', server.url, '--secret', SECRET);
    expect(filtered.stdout).toBe('200 OK\n{"received":true,"ignored":true}\n');
    // The second key of a rotation works as well as the first.
    const rotated = await send('refund.succeeded', server.url, '--secret', OTHER_SECRET);
    expect(rotated.code).toBe(0);
    await server.process.waitFor(/refund\.succeeded → delivered/);
    expect(slack.requests).toHaveLength(1);
    expect((JSON.parse(slack.requests[0]?.body ?? '') as { text: string }).text).toMatch(/^Refund/);
    expect(server.process.stdout).toMatch(/dispute\.opened ← 401 refused: invalid signature/);
    expect(server.process.stdout).toMatch(/payment\.succeeded ← 200 ignored/);
  });

  it('finishes an in-flight delivery on SIGTERM, then exits 0', async () => {
    // Slack holds its answer until the test releases it: the signal arrives while the post is in
    // flight, however slowly the machine runs (a fixed delay had often passed before the check).
    const { slack, url } = await fakeSlack([{ status: 200, body: 'ok', held: true }]);
    const server = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    const sent = send('payout.success', server.url, '--secret', SECRET);
    await slack.received(1);
    expect(server.process.stdout).not.toMatch(/payout\.success → delivered/);
    const stopped = server.process.stop('SIGTERM');
    await server.process.waitFor(/SIGTERM: finishing in-flight deliveries…/);
    expect(server.process.child.exitCode).toBeNull();
    slack.release();
    expect(await stopped).toBe(0);
    expect((await sent).code).toBe(0);
    expect(server.process.stdout).toMatch(/SIGTERM: finishing in-flight deliveries…\n(.*\n)*.*payout\.success → delivered/);
    expect(server.process.stdout).toMatch(/summary: 1 received, 1 delivered/);
    expect(server.process.stdout.trimEnd().split('\n').pop()).toBe('stopped');
  });

  it('exits 0 on SIGINT (Ctrl-C) when idle', async () => {
    const server = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET });
    const code = await server.process.stop('SIGINT');
    expect({ code, signal: server.process.child.signalCode, stderr: server.process.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(server.process.stdout).toMatch(/SIGINT: finishing in-flight deliveries…\nsummary: 0 received/);
  });

  it('runs --transform in the pipeline (cancel → skipped, nothing posted) and answers 413 to an oversized body', async () => {
    const { slack, url } = await fakeSlack();
    const transform = path.join(scratch, 'only-disputes.js');
    writeFileSync(
      transform,
      `function handler(webhook) {
         if (!webhook.eventType.startsWith('dispute.')) { webhook.cancel = true; return webhook; }
         console.log('posting', webhook.eventType);
         webhook.payload = { text: 'Dispute ' + webhook.payload.data.dispute_id };
         return webhook;
       }`,
    );
    const big = path.join(scratch, 'big.json');
    writeFileSync(big, JSON.stringify({ type: 'payment.succeeded', data: { note: 'x'.repeat(210 * 1024) } }));
    const server = await serve(['--data-dir', dataDir(), '--transform', transform], {
      DODO_WEBHOOK_SECRET: SECRET,
      SLACK_WEBHOOK_URL: url,
    });
    await send('payment.succeeded', server.url, '--secret', SECRET);
    await server.process.waitFor(/payment\.succeeded → skipped/);
    await send('dispute.won', server.url, '--secret', SECRET);
    await server.process.waitFor(/dispute\.won → delivered/);
    expect(server.process.stdout).toMatch(/transformation says: posting dispute\.won/);
    const oversized = await send(big, server.url, '--secret', SECRET);
    expect(oversized.code).toBe(1);
    expect(oversized.stdout).toMatch(/^413 Payload Too Large\n\{"error":"body larger than \d+ bytes"\}\n$/);
    expect(slack.requests.map((request): unknown => JSON.parse(request.body))).toEqual([{ text: expect.stringMatching(/^Dispute dis_/) as unknown }]);
  });

  it('warns at start about an --events glob that matches no known type, and still forwards it', async () => {
    const { slack, url } = await fakeSlack();
    const server = await serve(['--data-dir', dataDir(), '--events', 'paymnt.*,refund.*'], { DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: url });
    expect(server.process.stderr).toBe(
      'dodo-slack: warning: --events: event glob "paymnt.*" matches no Dodo event type this version knows (closest: "payment.*"); ' +
        'it is kept, in case Dodo has added such a type, but check the spelling\n',
    );
    // Kept as given: a (made-up) type it matches is forwarded.
    const made = path.join(scratch, 'paymnt.json');
    writeFileSync(made, JSON.stringify({ type: 'paymnt.new', business_id: 'bus_1', timestamp: new Date().toISOString(), data: {} }));
    expect((await send(made, server.url, '--secret', SECRET)).code).toBe(0);
    await server.process.waitFor(/paymnt\.new → delivered/);
    expect(slack.requests).toHaveLength(1);
  });

  it('says which port is taken instead of crashing', async () => {
    const first = await serve(['--data-dir', dataDir()], { DODO_WEBHOOK_SECRET: SECRET });
    const port = new URL(first.url).port;
    const second = await runCli(cli.entry, ['serve', '--port', port, '--data-dir', dataDir()], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`dodo-slack: port ${port} on 127.0.0.1 is in use; pass --port N (0 picks a free port)\n`);
  });

  it('refuses to start without a signing key, or with a Slack URL that is not https, without printing it', async () => {
    const env = cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: 'http://hooks.example.com/services/T1/B1/SECRETPART' });
    const cwd = mkdtempSync(path.join(scratch, 'refused-'));
    const [noKey, insecure, badFlag, badBurst] = await Promise.all([
      runCli(cli.entry, ['serve', '--port', '0'], { cwd }),
      runCli(cli.entry, ['serve', '--port', '0'], { env, cwd }),
      runCli(cli.entry, ['serve', '--port', '0', '--max-attempts', '0'], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }), cwd }),
      runCli(cli.entry, ['serve', '--port', '0', '--burst', '0'], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }), cwd }),
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/serve needs DODO_WEBHOOK_SECRET/);
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/must use https/);
    expect(insecure.stderr + insecure.stdout).not.toContain('SECRETPART');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--max-attempts must be an integer from 1 to 1000, got "0"/);
    expect(badBurst.code).toBe(2);
    expect(badBurst.stderr).toMatch(/--burst must be an integer from 1 to 1000, got "0"/);
    // Refused before anything was stored: no data dir appears.
    expect(existsSync(path.join(cwd, '.dodo-slack'))).toBe(false);
  });
});
