/**
 * The transport-neutral core with in-memory ports, as the local server will use it.
 * (The answer table itself is covered through the Lambda handler in handler.test.ts.)
 */
import { promiseOf } from '../../lambda/shared/promise';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricName } from '../../lambda/shared/metrics';
import { SECRET_PLACEHOLDER } from '../../lambda/shared/function-env';
import { type CoreLogger } from '../../lambda/shared/ports';
import { type QueuedWebhook } from '../../lambda/shared/webhook';
import { createWebhookReceiver, signingKeyParser } from '../../lambda/receiver/webhook-receiver';
import { CachedSecret } from '../../lambda/shared/secret-cache';
import { signWebhook } from '../../lambda/receiver/signature';

const body = readFileSync(join(__dirname, '../fixtures/dodo/dispute.opened.json'));

function recorder() {
  const lines: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const logger: CoreLogger = {
    debug: (message, extra) => lines.push({ level: 'debug', message, extra }),
    info: (message, extra) => lines.push({ level: 'info', message, extra }),
    warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
    error: (message, extra) => lines.push({ level: 'error', message, extra }),
  };
  const counts = new Map<string, number>();
  const annotations: Record<string, unknown>[] = [];
  const metrics = {
    count: (name: MetricName, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value),
    milliseconds: () => {},
    annotate: (fields: Record<string, unknown>) => annotations.push({ ...fields }),
  };
  return { lines, logger, metrics, counts, annotations };
}

function setup(secretValues: string[], options: { failRefresh?: boolean } = {}) {
  let nowMs = 1_700_000_000_000;
  let loads = 0;
  const telemetry = recorder();
  const queue: QueuedWebhook[] = [];
  const signingKeys = new CachedSecret({
    load: () =>
      promiseOf(() => {
        loads++;
        if (options.failRefresh && loads > 1) throw new Error('ThrottlingException');
        return secretValues[Math.min(loads, secretValues.length) - 1];
      }),
    parse: signingKeyParser(telemetry.logger),
    ttlMs: 300_000,
    now: () => nowMs,
  });
  const receive = createWebhookReceiver({
    signingKeys,
    enqueue: (webhook) => {
      queue.push(webhook);
      return Promise.resolve();
    },
    eventGlobs: ['dispute.*'],
    toleranceSeconds: 300,
    now: () => nowMs,
    logger: telemetry.logger,
    metrics: telemetry.metrics,
  });
  const request = (key: Buffer, id = 'msg_core') => {
    const ts = Math.floor(nowMs / 1000);
    return receive({ headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(key, id, ts, body) }, body });
  };
  return { receive, request, queue, telemetry, loads: () => loads, advance: (ms: number) => (nowMs += ms) };
}

test('queues into any enqueue port and records id, type and outcome without the body', async () => {
  const key = randomBytes(32);
  const { request, queue, telemetry } = setup([`whsec_${key.toString('base64')}`]);

  expect(await request(key, 'msg_local_1')).toEqual({ statusCode: 200, body: '{"received":true}', outcome: 'queued' });

  expect(queue).toEqual([{ webhookId: 'msg_local_1', webhookTimestamp: expect.stringMatching(/^\d+$/) as unknown, eventType: 'dispute.opened', body: body.toString() }]);
  const answered = { webhookId: 'msg_local_1', bodyBytes: body.length, eventType: 'dispute.opened', outcome: 'queued', statusCode: 200 };
  // With the metrics (one document per request on Lambda); as a log line only at debug level.
  expect(telemetry.annotations).toEqual([answered]);
  expect(telemetry.lines).toEqual([{ level: 'debug', message: 'Webhook answered', extra: answered }]);
  expect(Object.fromEntries(telemetry.counts)).toEqual({ [MetricName.WebhookReceived]: 1, [MetricName.WebhookQueued]: 1 });
});

test('a refetch after a mismatch that finds the placeholder answers 503, not 401', async () => {
  const old = randomBytes(32);
  const { request, advance, queue } = setup([`whsec_${old.toString('base64')}`, SECRET_PLACEHOLDER]);
  expect((await request(old)).statusCode).toBe(200);
  advance(20_000);
  expect(await request(randomBytes(32))).toMatchObject({ statusCode: 503, outcome: 'signing-key-not-configured' });
  expect(queue).toHaveLength(1);
});

test('a refetch that fails answers 503 (Dodo retries) instead of refusing a possibly valid webhook', async () => {
  const old = randomBytes(32);
  const { request, advance, loads } = setup([`whsec_${old.toString('base64')}`], { failRefresh: true });
  expect((await request(old)).statusCode).toBe(200);
  advance(20_000);
  expect(await request(randomBytes(32))).toMatchObject({ statusCode: 503, outcome: 'signing-key-unavailable' });
  expect(loads()).toBe(2);
});

test('concurrent first requests share one secret fetch', async () => {
  const key = randomBytes(32);
  const { request, loads, queue } = setup([`whsec_${key.toString('base64')}`]);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => request(key, `msg_${i}`)));
  expect(results.every((result) => result.statusCode === 200)).toBe(true);
  expect(loads()).toBe(1);
  expect(queue).toHaveLength(20);
});
