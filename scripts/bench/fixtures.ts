/**
 * Inputs shared by the benchmark's parts: the 48 Dodo fixtures, signed as Dodo signs them.
 * Only node:* and the project's own core, so the harnesses that get bundled stay small.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSigningKeys, signWebhook } from '../../lambda/receiver/signature';

/** Body size of every signature-check measurement (bodies padded with JSON whitespace): a Dodo webhook is 1–3 KB. */
export const BODY_BYTES = 2048;

export const FIXTURES_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'dodo');

export interface Fixture {
  readonly name: string;
  readonly body: string;
  readonly envelope: { readonly type: string; readonly timestamp: string; readonly [key: string]: unknown };
}

/** The fixture bodies, one per Dodo event type, in file-name order. */
export function loadFixtures(dir: string = FIXTURES_DIR): Fixture[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const body = readFileSync(path.join(dir, file), 'utf8');
      return { name: file.replace(/\.json$/, ''), body, envelope: JSON.parse(body) as Fixture['envelope'] };
    });
}

/**
 * The body padded with JSON whitespace to exactly `bytes` (still the same JSON document), so
 * signature checks are compared on equal, realistic sizes. Bodies already longer are kept as they are.
 */
export function padBody(body: string, bytes: number): string {
  const size = Buffer.byteLength(body, 'utf8');
  if (size >= bytes) return body;
  const closing = body.lastIndexOf('}');
  return body.slice(0, closing) + ' '.repeat(bytes - size) + body.slice(closing);
}

/** A fresh signing secret in Dodo's `whsec_<base64>` form, and its decoded key. */
export function newSigningSecret(): { readonly secret: string; readonly key: Buffer } {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  return { secret, key: parseSigningKeys(secret).keys[0].bytes };
}

let counter = 0;

/** A webhook id in Dodo's shape, unique within this process. */
export function newWebhookId(): string {
  counter += 1;
  return `msg_bench${process.pid.toString(36)}${counter.toString(36).padStart(8, '0')}`;
}

/** The three Standard Webhooks headers for one body, signed now. */
export function signedHeaders(key: Buffer, body: string, webhookId: string = newWebhookId(), nowSeconds: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(nowSeconds),
    'webhook-signature': signWebhook(key, webhookId, nowSeconds, body),
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
