/**
 * The yardstick of the benchmark's CPU-per-event ratios: for each function, the least code that does
 * its job, run in the same harness process as the real handler with the same stand-ins, rounds
 * alternated. The ratio real ÷ minimal is what our code (answer table, telemetry, deduplication,
 * templates, pacing…) costs over the job itself, and it moves little with the CPU: a machine whose
 * HMAC or JSON is faster speeds both sides up alike, where a count of signature checks did not.
 *
 * Minimal means what any handler doing the job must do, and nothing else:
 * - receiver: the Standard Webhooks check with node:crypto (the three headers present, the
 *   timestamp within the tolerance, HMAC-SHA256 over `${id}.${timestamp}.${body}` compared in
 *   constant time with each `v1,` signature of the header), then one SendMessage of the body with
 *   the @aws-sdk/client-sqs SQSClient. No header-case normalisation, secret cache, size limit, JSON
 *   parse, event filter, message attributes, logs or metrics.
 * - transformer: each SQS record's body parsed as JSON, a fixed text posted to the Slack webhook
 *   URL with `fetch`, the answer read and its status checked; a failed record reported as a batch
 *   item failure. No templates, deduplication, pacing, retries, dead letters, logs or metrics.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface MinimalReceiverOptions {
  /** The signing key, already decoded (a minimal function reads its secret once, at start). */
  readonly key: Buffer;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** @default 300 */
  readonly toleranceSeconds?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

export type MinimalReceiver = (event: Pick<APIGatewayProxyEvent, 'headers' | 'body'>) => Promise<APIGatewayProxyResult>;

const ACCEPTED: APIGatewayProxyResult = { statusCode: 200, body: '{"received":true}' };
const UNAUTHORIZED: APIGatewayProxyResult = { statusCode: 401, body: '{"error":"invalid signature"}' };

/** The receiver's job and nothing more: verify the Standard Webhooks signature, queue the body. */
export function minimalReceiver(options: MinimalReceiverOptions): MinimalReceiver {
  const { key, sqs, queueUrl, toleranceSeconds = 300, now = Date.now } = options;
  return async (event) => {
    const id = event.headers['webhook-id'];
    const timestamp = event.headers['webhook-timestamp'];
    const signatures = event.headers['webhook-signature'];
    const body = event.body ?? '';
    if (!id || !timestamp || !signatures) return UNAUTHORIZED;
    // Negated so that a timestamp that is not a number (NaN) is refused too.
    if (!(Math.abs(now() / 1000 - Number(timestamp)) <= toleranceSeconds)) return UNAUTHORIZED;
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
    let verified = false;
    for (const signature of signatures.split(' ')) {
      if (!signature.startsWith('v1,')) continue;
      const given = Buffer.from(signature.slice(3), 'base64');
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        verified = true;
        break;
      }
    }
    if (!verified) return UNAUTHORIZED;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    return ACCEPTED;
  };
}

export interface MinimalTransformerOptions {
  /** The Slack incoming-webhook URL (a minimal function reads its secret once, at start). */
  readonly slackUrl: string;
}

/** What the minimal transformer posts for every event. */
export const MINIMAL_SLACK_TEXT = 'A Dodo Payments event arrived.';

/** The transformer's job and nothing more: parse each record, post a fixed text to Slack. */
export function minimalTransformer(options: MinimalTransformerOptions): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const payload = JSON.stringify({ text: MINIMAL_SLACK_TEXT });
  return async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const envelope: unknown = JSON.parse(record.body);
        if (typeof (envelope as { type?: unknown } | null)?.type !== 'string') throw new Error('not a webhook envelope');
        const response = await fetch(options.slackUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        await response.text();
        if (!response.ok) throw new Error(`Slack answered ${response.status}`);
      } catch {
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
