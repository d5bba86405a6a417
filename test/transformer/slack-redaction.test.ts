/**
 * Nothing taken from a Slack answer carries the webhook URL or its token: a stand-in Slack on
 * 127.0.0.1 echoes the request path (and URL) in its error bodies, and no outcome reason,
 * lastSlackResponse or log line of the delivery processor (the Lambda's core) and no progress
 * line, log line or stored file of `dodo-slack serve` contains them, while the status and Slack's
 * error code (`404 channel_not_found`) are kept.
 */
import { testServerOptions } from '../support/local-server';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { createSlackClient, describeSlackResult, redactSlackAnswer } from '../../lambda/transformer/slack-client';
import { startLocalServer } from '../../lambda/local/server';
import { answer, ok, useFakeSlack, type ReceivedRequest, type SlackScript } from '../support/fake-slack';
import { fixtureBody, processorFor, route, webhook } from '../support/delivery';

/** A webhook path shaped like Slack's: /services/T<team>/B<bot>/<24-character secret>. */
function slackPath(): { path: string; tokens: string[] } {
  const team = `T0${randomBytes(5).toString('hex').toUpperCase()}`;
  const bot = `B0${randomBytes(5).toString('hex').toUpperCase()}`;
  const secret = randomBytes(18).toString('base64url');
  return { path: `/services/${team}/${bot}/${secret}`, tokens: [team, bot, secret] };
}

/** Every form of a webhook URL's credential that must never appear in text, lower-cased (the check is case-insensitive). */
function forbiddenForms(url: string, tokens: readonly string[]): string[] {
  const { pathname } = new URL(url);
  return [url, pathname, encodeURIComponent(pathname), pathname.replace(/\//g, '\\/'), ...tokens, ...tokens.map(encodeURIComponent)].map((form) => form.toLowerCase());
}

function expectClean(text: string, forbidden: readonly string[]): void {
  const lower = text.toLowerCase();
  for (const form of forbidden) expect({ form, found: lower.includes(form) }).toEqual({ form, found: false });
  expect(lower).not.toContain('/services/t');
}

/** Error bodies that echo what the request was: the path, the whole URL, JSON with the path, … */
const ECHOES: ReadonlyArray<readonly [name: string, status: number, body: (request: ReceivedRequest, url: string) => string, kept: string]> = [
  ['500 with the path in plain text', 500, (r) => `internal_error while handling POST ${r.path}`, '500 internal_error'],
  ['404 channel_not_found and the path', 404, (r) => `channel_not_found ${r.path}`, '404 channel_not_found'],
  ['400 with the path in JSON', 400, (r) => JSON.stringify({ error: 'invalid_payload', path: r.path }), '400 {"error":"invalid_payload"'],
  ['400 with the path in JSON with escaped slashes', 400, (r) => JSON.stringify({ error: 'no_text', path: r.path }).replace(/\//g, '\\/'), '400 {"error":"no_text"'],
  ['503 with the whole URL in an HTML page', 503, (_r, url) => `<html><body><h1>service_unavailable</h1><a href="${url}">retry ${url}</a></body></html>`, '503 <html><body><h1>service_unavailable</h1>'],
  ['500 with the path percent-encoded', 500, (r) => `upstream_error path=${encodeURIComponent(r.path)}`, '500 upstream_error'],
  ['410 with the path in upper case', 410, (r) => `channel_is_archived ${r.path.toUpperCase()}`, '410 channel_is_archived'],
];

describe('the Slack client and the delivery processor', () => {
  const slack = useFakeSlack();

  test.each(ECHOES)('%s: the client result keeps the status and code, never the path or its tokens', async (_name, status, body, kept) => {
    const { path, tokens } = slackPath();
    const url = slack.url(path);
    slack.respond = (request) => answer(status, body(request, url));

    const result = await createSlackClient({ timeoutMs: 2000 })(url, { text: 'hello' });

    expect(slack.requests.map((r) => r.path)).toEqual([path]);
    expect(result).toMatchObject({ kind: 'response', status });
    const described = describeSlackResult(result);
    expect(described.startsWith(kept)).toBe(true);
    expect(described.length).toBeLessThanOrEqual(310);
    expectClean(JSON.stringify(result), forbiddenForms(url, tokens));
  });

  test.each(ECHOES)('%s: no reason, lastSlackResponse or log line of any attempt carries the URL', async (_name, status, body, kept) => {
    const { path, tokens } = slackPath();
    const url = slack.url(path);
    slack.respond = (request) => answer(status, body(request, url));
    const { processor, recorder } = processorFor([route('default', () => url)]);
    const event = webhook();

    const outcomes = [];
    for (const receiveCount of [1, 2, 3]) {
      const batch = await processor.processBatch([{ id: `r${receiveCount}`, webhook: event, receiveCount }]);
      outcomes.push(batch.get(`r${receiveCount}`)!);
      if (outcomes.at(-1)!.kind === 'dead-letter') break;
    }

    const last = outcomes.at(-1)!;
    expect(last).toMatchObject({ kind: 'dead-letter', lastSlackResponse: expect.stringContaining(kept) as unknown });
    expect(last.kind === 'dead-letter' && last.reason).toContain(`Slack answered ${kept}`);
    const text = JSON.stringify({ outcomes, lines: recorder.lines });
    expect(text).toContain(kept.split(' ')[1].replace(/"/g, '\\"'));
    expectClean(text, forbiddenForms(url, tokens));
  });

  test('a 404 from the old URL and a 500 from the rotated one: neither path in the rotation log line, the retry or the dead letter', async () => {
    const old = slackPath();
    const rotated = slackPath();
    const oldUrl = slack.url(old.path);
    const newUrl = slack.url(rotated.path);
    slack.respond = (request): SlackScript => (request.path === old.path ? answer(404, `channel_not_found ${oldUrl}`) : answer(500, `internal_error ${request.path}`));
    let secret = oldUrl;
    const { processor, recorder } = processorFor([
      route('default', () => {
        const current = secret;
        secret = newUrl;
        return current;
      }),
    ]);

    const event = webhook();
    const first = (await processor.processBatch([{ id: 'r1', webhook: event, receiveCount: 1 }])).get('r1')!;
    const last = (await processor.processBatch([{ id: 'r3', webhook: event, receiveCount: 3 }])).get('r3')!;

    expect(slack.requests.map((r) => r.path)).toEqual([old.path, rotated.path, rotated.path]);
    expect(first).toMatchObject({ kind: 'retry', reason: expect.stringContaining('Slack answered 500 internal_error') as unknown });
    expect(last).toMatchObject({ kind: 'dead-letter', lastSlackResponse: expect.stringContaining('500 internal_error') as unknown });
    const rotation = recorder.lines.find((line) => line.message.startsWith('Slack secret changed'));
    expect(rotation?.extra).toMatchObject({ slackResponse: expect.stringContaining('404 channel_not_found') as unknown });
    const text = JSON.stringify({ first, last, lines: recorder.lines });
    expectClean(text, [...forbiddenForms(oldUrl, old.tokens), ...forbiddenForms(newUrl, rotated.tokens)]);
  });

  test('429 with the path in its body: the log lines and the requeue carry no path', async () => {
    const { path, tokens } = slackPath();
    const url = slack.url(path);
    slack.respond = (request) => answer(429, `rate_limited ${request.path}`, { 'retry-after': '1' });
    const { processor, recorder } = processorFor([route('default', () => url)]);
    const outcome = (await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 3 }])).get('r')!;
    expect(outcome).toMatchObject({ kind: 'requeue', delaySeconds: 1 });
    expectClean(JSON.stringify({ outcome, lines: recorder.lines }), forbiddenForms(url, tokens));
  });

  test('plain Slack answers are kept as they are', async () => {
    slack.respond = () => ok;
    const client = createSlackClient({ timeoutMs: 2000 });
    expect(await client(slack.url(slackPath().path), { text: 'x' })).toEqual({ kind: 'response', status: 200, body: 'ok' });
    slack.respond = () => answer(404, 'channel_not_found');
    expect(describeSlackResult(await client(slack.url(slackPath().path), { text: 'x' }))).toBe('404 channel_not_found');
  });
});

describe('redactSlackAnswer', () => {
  const URL_ = 'https://hooks.slack.com/services/T0AAAA1111/B0BBBB2222/abcdEFGHijklMNOPqrstUVWX';

  test.each([
    ['channel_not_found', 'channel_not_found'],
    ['invalid_payload', 'invalid_payload'],
    ['channel_not_found /services/T0AAAA1111/B0BBBB2222/abcdEFGHijklMNOPqrstUVWX', 'channel_not_found [redacted]'],
    [`error at ${URL_}`, 'error at [redacted]'],
    ['no_text token=abcdEFGHijklMNOPqrstUVWX', 'no_text token=[redacted]'],
    ['team T0AAAA1111 bot b0bbbb2222', 'team [redacted] bot [redacted]'],
    // Another webhook's URL, or a path without a host, whatever its token.
    ['see https://hooks.slack.com/services/TOTHER/BOTHER/other-token now', 'see https://hooks.slack.com/[redacted] now'],
    ['hooks.slack.com/workflows/T1/A1/123/tok', 'hooks.slack.com/[redacted]'],
    ['bad path /services/TX/BX/xyz', 'bad path /services/[redacted]'],
    ['redirect to http://proxy.internal:8080/forward?to=x', 'redirect to http://proxy.internal:8080/[redacted]'],
    ['"\\/services\\/T0AAAA1111\\/B0BBBB2222\\/abcdEFGHijklMNOPqrstUVWX"', '"[redacted]"'],
    ['internal_error\n\tbusy\u0000\u001b[31m', 'internal_error busy [31m'],
  ])('%j → %j', (text, expected) => {
    expect(redactSlackAnswer(text, URL_)).toBe(expected);
  });

  test('a URL whose path is a single short segment is still removed, and public words of the path stay', () => {
    expect(redactSlackAnswer('not_found /x1/services', 'http://127.0.0.1:4000/x1')).toBe('not_found [redacted]/services');
    expect(redactSlackAnswer('services are fine', 'https://hooks.slack.com/services/T0AAAA1111/B0BBBB2222/abcdEFGHijklMNOP')).toBe('services are fine');
  });

  test('the query and user info of a URL are secret too', () => {
    const url = 'http://user:hunter2secret@127.0.0.1:4000/hook?key=querytoken123';
    expect(redactSlackAnswer('bad key querytoken123 for hunter2secret ?key=querytoken123', url)).toBe('bad key [redacted] for [redacted] [redacted]');
  });

  test('bounded to 300 characters, cut only after redaction (no half token survives)', () => {
    const token = 'abcdEFGHijklMNOPqrstUVWX';
    const text = `${'x'.repeat(290)} ${token} ${'y'.repeat(500)}`;
    const redacted = redactSlackAnswer(text, URL_);
    expect(redacted.length).toBeLessThanOrEqual(300);
    expect(redacted).not.toContain('abcd');
    // A huge body: only its beginning is read, and the word cut at that limit is dropped.
    const huge = redactSlackAnswer(`server_error ${'z '.repeat(8190)}${token}${'q'.repeat(100_000)}`, URL_);
    expect(huge.startsWith('server_error z z')).toBe(true);
    expect(huge.length).toBeLessThanOrEqual(300);
    // A long URL shrinks to a few characters, so a token cut at the read limit would show: its half is dropped.
    const longUrl = `https://proxy.example/${'p'.repeat(16_384 - 'https://proxy.example/'.length - 13)}`;
    const cut = redactSlackAnswer(`${longUrl} ${token} more text`, URL_);
    expect(cut).toBe('https://proxy.example/[redacted]');
  });

  test('cheap on adversarial input', () => {
    const started = Date.now();
    redactSlackAnswer('a'.repeat(1_000_000), URL_);
    redactSlackAnswer('[redacted]'.repeat(100_000), URL_);
    redactSlackAnswer(`${'a1+.-'.repeat(200_000)}://`, URL_);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('dodo-slack serve', () => {
  const slack = useFakeSlack();
  let workDir: string;

  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'slack-redaction-'));
  });
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? filesUnder(full) : [full];
    });
  }

  test('a 404 that echoes the path: the progress and log lines and the data dir keep 404 channel_not_found, never the path', async () => {
    const { path, tokens } = slackPath();
    const url = slack.url(path);
    slack.respond = (request) => answer(404, `channel_not_found ${request.path} (${url})`);
    const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const output: string[] = [];
    const server = await startLocalServer(testServerOptions(signingSecret, workDir, output, {
      slackWebhookUrl: url,
      // The core's structured log lines too, not only the progress lines.
      verbose: true,
    }));
    try {
      const body = fixtureBody('payment.succeeded');
      const id = 'msg_redaction_serve_1';
      const timestamp = new Date();
      const signature = new Webhook(signingSecret).sign(id, timestamp, body);
      const status = await post(server.url, { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature }, body);
      expect(status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (!output.join('').includes('dead-lettered') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    } finally {
      await server.close();
    }

    expect(slack.requests.map((r) => r.path)).toContain(path);
    const printed = output.join('');
    expect(printed).toContain('dead-lettered');
    expect(printed).toContain('404 channel_not_found');
    expectClean(printed, forbiddenForms(url, tokens));
    // Dead letters and delivery states as stored (whatever the store's format).
    const stored = filesUnder(workDir).map((file) => readFileSync(file).toString('latin1'));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.join('\n')).toContain('channel_not_found');
    for (const text of stored) expectClean(text, forbiddenForms(url, tokens));
  });
});
