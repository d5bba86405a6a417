import { SECRET_PLACEHOLDER } from '../../lambda/shared/function-env';
import { SecretConfigurationError } from '../../lambda/shared/errors';
import { transformerConfigFromEnv } from '../../lambda/transformer/handler';
import { parseSlackBotToken } from '../../lambda/transformer/slack-token';
import { createSlackWebApi, describeApiResult, normaliseSlackApiUrl, redactToken } from '../../lambda/transformer/slack-web-api';
import { useFakeSlackApi } from '../support/fake-slack-api';

const TOKEN = 'xoxb-test-0000-token';

describe('bot token secret', () => {
  test('plain or JSON', () => {
    expect(parseSlackBotToken(` ${TOKEN}\n`)).toBe(TOKEN);
    expect(parseSlackBotToken(JSON.stringify({ token: TOKEN }))).toBe(TOKEN);
    expect(parseSlackBotToken('xoxe.xoxb-1-abcdefghijkl')).toBe('xoxe.xoxb-1-abcdefghijkl');
  });
  test.each([
    ['', /empty/],
    [SECRET_PLACEHOLDER, /placeholder/],
    [JSON.stringify({ token: SECRET_PLACEHOLDER }), /placeholder/],
    ['{"token": 1}', /no "token" string/],
    ['{nope', /does not parse/],
    ['xoxp-1234567890-user', /xoxp- token; app mode needs the bot token/],
    ['https://hooks.slack.com/services/T/B/x', /not a bot token/],
  ])('%j is refused with a message that never quotes it', (raw, message) => {
    let thrown: unknown;
    try {
      parseSlackBotToken(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SecretConfigurationError);
    expect((thrown as Error).message).toMatch(message);
    if (raw.length > 8) expect((thrown as Error).message).not.toContain(raw);
  });
  test('the placeholder is flagged as such (retried until an operator sets it)', () => {
    // jest's toThrow takes an asymmetric matcher; @types/jest's signature does not list one, hence the cast.
    expect(() => parseSlackBotToken(SECRET_PLACEHOLDER)).toThrow(expect.objectContaining({ isPlaceholder: true }) as Error);
  });
});

describe('Slack Web API client', () => {
  const api = useFakeSlackApi();

  test('posts JSON with the Bearer token, reads the ts; reads conversations form-encoded', async () => {
    const client = createSlackWebApi({ baseUrl: api.url, timeoutMs: 2000 });
    const posted = await client.call(TOKEN, 'chat.postMessage', { channel: 'C0TESTCHAN', text: 'hi' });
    expect(posted).toMatchObject({ kind: 'response', status: 200, ok: true, data: { channel: 'C0TESTCHAN' } });
    const ts = (posted as unknown as { data: { ts: string } }).data.ts;
    const history = await client.call(TOKEN, 'conversations.history', { channel: 'C0TESTCHAN', include_all_metadata: true });
    expect((history as unknown as { data: { messages: { ts: string }[] } }).data.messages.map((m) => m.ts)).toEqual([ts]);
    expect(api.calls.map((c) => [c.method, c.authorization, c.contentType?.split(';')[0]])).toEqual([
      ['chat.postMessage', `Bearer ${TOKEN}`, 'application/json'],
      ['conversations.history', `Bearer ${TOKEN}`, 'application/x-www-form-urlencoded'],
    ]);
  });

  test('errors, ratelimited with Retry-After, timeouts and cut connections, none of them carrying the token', async () => {
    const client = createSlackWebApi({ baseUrl: api.url, timeoutMs: 300 });
    const bad = await client.call('xoxb-wrong-1234-token', 'chat.postMessage', { channel: 'C0TESTCHAN', text: 'x' });
    expect(bad).toMatchObject({ kind: 'response', ok: false, error: 'invalid_auth' });

    api.respond = () => ({ kind: 'answer', status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '7' } });
    expect(await client.call(TOKEN, 'chat.update', { channel: 'C0TESTCHAN', ts: '1.1' })).toMatchObject({ status: 429, error: 'ratelimited', retryAfterSeconds: 7 });

    api.respond = () => ({ kind: 'answer', status: 502, body: `<html>bad gateway for ${TOKEN} at ${api.url}chat.postMessage</html>` });
    const echoed = await client.call(TOKEN, 'chat.postMessage', { channel: 'C0TESTCHAN', text: 'x' });
    expect(echoed).toMatchObject({ kind: 'response', status: 502, ok: false });
    expect(JSON.stringify(echoed)).not.toContain(TOKEN);

    api.respond = () => ({ kind: 'record-then-slow', delayMs: 1000 });
    const slow = await client.call(TOKEN, 'chat.postMessage', { channel: 'C0TESTCHAN', text: 'x' });
    expect(slow).toEqual({ kind: 'timeout', timeoutMs: 300 });
    expect(describeApiResult('chat.postMessage', slow)).toBe('chat.postMessage timeout after 300 ms');

    api.respond = () => ({ kind: 'record-then-reset' });
    const reset = await client.call(TOKEN, 'chat.postMessage', { channel: 'C0TESTCHAN', text: 'x' });
    expect(reset.kind).toBe('network-error');
  });

  test('redactToken removes the token and anything token-shaped', () => {
    expect(redactToken(`a ${TOKEN} b xoxp-999-abc c`, TOKEN)).toBe('a [redacted] b [redacted] c');
  });

  test('the API URL: https, or http on the loopback only', () => {
    expect(normaliseSlackApiUrl('https://slack.com/api')).toBe('https://slack.com/api/');
    expect(normaliseSlackApiUrl('http://127.0.0.1:4000/api/')).toBe('http://127.0.0.1:4000/api/');
    expect(() => normaliseSlackApiUrl('http://slack.example.com/api/')).toThrow(/http only on 127.0.0.1/);
    expect(() => normaliseSlackApiUrl('slack.com')).toThrow(/absolute URL/);
  });
});

describe('the transformer reads app-mode routes from its environment', () => {
  const env = (routes: unknown[], extra: Record<string, string> = {}) => ({
    ROUTES: JSON.stringify(routes),
    QUEUE_URL: 'https://queue',
    DEAD_LETTER_QUEUE_URL: 'https://dlq',
    IDEMPOTENCY_TABLE_NAME: 'dedup',
    ...extra,
  });
  const appRoute = { id: 'default', events: ['*'], slackSecretId: 'arn:bot', slackChannelId: 'C0TESTCHAN', transformation: { kind: 'builtin', options: {} } };

  test('a bot-token route needs THREAD_TABLE_NAME; the TTL and Tier 3 pace fall back to the defaults', () => {
    expect(() => transformerConfigFromEnv(env([appRoute]))).toThrow(/THREAD_TABLE_NAME is not set, and a route posts with a Slack bot token/);
    const config = transformerConfigFromEnv(env([appRoute], { THREAD_TABLE_NAME: 'threads' }));
    expect(config).toMatchObject({ threadTableName: 'threads', threadTtlSeconds: 90 * 86400, slackTier3CallsPerMinute: 50 });
  });

  test('malformed app-mode fields are named', () => {
    expect(() => transformerConfigFromEnv(env([{ ...appRoute, slackChannelId: 7, replyBroadcast: 'dispute.*' }], { THREAD_TABLE_NAME: 't' }))).toThrow(
      /ROUTES\[0\]\.slackChannelId must be a channel ID string; ROUTES\[0\]\.replyBroadcast must be an array of event globs/,
    );
  });
});
