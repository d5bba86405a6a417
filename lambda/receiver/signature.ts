/**
 * Standard Webhooks signature verification (how Dodo Payments signs), over the exact raw bytes.
 *
 * Hot path of the receiver: node:crypto only (the reference library's pure-JS SHA-256 is about 5x
 * slower), one HMAC per key per request, compared against every `v1` entry of the header.
 * Nothing here ever puts key material into a message, a problem string or an error.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SECRET_PLACEHOLDER } from '../shared/function-env';
import { SecretConfigurationError } from '../shared/errors';
import type { WebhookMode } from '../shared/webhook';

const KEY_PREFIX = 'whsec_';
/** Standard base64 alphabet, padding optional (some tools strip it). */
const BASE64_BODY = /^[A-Za-z0-9+/]*$/;
/** `test:` or `live:` before a key (any case): which of Dodo's dashboards signs with it. */
const MODE_LABEL = /^([A-Za-z]+):/;

/**
 * One signing key and the mode of the Dodo dashboard that signs with it. Dodo's test mode and live
 * mode are separate dashboards with their own endpoint secret, and a payload does not say which
 * one sent it: the key that verifies the signature does.
 */
export interface SigningKey {
  /** The decoded key bytes (what follows `whsec_`, base64-decoded). */
  readonly bytes: Buffer;
  /** `test` for a key written `test:whsec_…`; `live` for `live:whsec_…` and for an unlabelled key. */
  readonly mode: WebhookMode;
}

export interface ParsedSigningKeys {
  /** The usable keys, in the order they appear in the secret. */
  readonly keys: SigningKey[];
  /** One line per unusable entry, naming its position and what is wrong with it, never its value. */
  readonly problems: string[];
}

/**
 * Parses the signing secret: one or more keys separated by whitespace, each `whsec_<base64>` or
 * plain `<base64>`, optionally labelled with the mode whose dashboard signs with it:
 * `test:whsec_…` or `live:whsec_…` (unlabelled means live). A JSON object (what the Secrets Manager console's key/value editor stores) is
 * accepted too: every string value is read as such a list.
 *
 * Throws SecretConfigurationError(isPlaceholder = true) while the secret holds the construct's
 * placeholder. Unusable entries do not throw: they are reported in `problems` so the caller can log
 * them and keep working with the valid ones (a typo in the new key must not break the old one).
 */
export function parseSigningKeys(secretString: string): ParsedSigningKeys {
  const trimmed = secretString.trim();
  if (trimmed === SECRET_PLACEHOLDER.trim()) {
    throw new SecretConfigurationError('the signing secret still holds its placeholder; set it to the whsec_… key from the Dodo dashboard', true);
  }
  const entries = splitEntries(trimmed);
  const keys: SigningKey[] = [];
  const problems: string[] = [];
  if (entries.length === 0) {
    problems.push('the signing secret is empty; set it to the whsec_… key from the Dodo dashboard');
  }
  const positions: number[] = [];
  entries.forEach((labelled, index) => {
    const position = `signing key #${index + 1} of ${entries.length}`;
    const { mode, entry, labelProblem } = splitLabel(labelled);
    // An unknown label is not read as live: a mistyped `tset:` must not post test payments as real ones.
    const problem = labelProblem ?? keyProblem(entry, labelled.length - entry.length);
    if (problem !== undefined || mode === undefined) {
      problems.push(`${position} ${problem ?? 'has no mode'}; it is ignored`);
      return;
    }
    const bytes = Buffer.from(stripPrefix(entry), 'base64');
    const same = keys.findIndex((key) => key.bytes.equals(bytes));
    if (same !== -1 && keys[same].mode !== mode) {
      // Which dashboard sent a webhook is only known from its key: one key cannot be both.
      problems.push(`${position} is the same key as signing key #${positions[same]} of ${entries.length} with another mode (${mode}, not ${keys[same].mode}); it is ignored`);
      return;
    }
    keys.push({ bytes, mode });
    positions.push(index + 1);
  });
  return { keys, problems };
}

/**
 * The mode label of one entry and the key after it. What is wrong with a label is described
 * without quoting it (the text before a colon could be part of a pasted key).
 */
function splitLabel(labelled: string): { readonly mode?: WebhookMode; readonly entry: string; readonly labelProblem?: string } {
  const match = MODE_LABEL.exec(labelled);
  if (match === null) {
    if (labelled.includes(':') && !/^v1[,=]/.test(labelled)) {
      return { entry: labelled, labelProblem: 'has a mode label that is not test: or live: (write test:whsec_… or live:whsec_…, or the key alone for live)' };
    }
    return { mode: 'live', entry: labelled };
  }
  const label = match[1].toLowerCase();
  const entry = labelled.slice(match[0].length);
  if (label === 'test' || label === 'live') return { mode: label, entry };
  return { entry, labelProblem: `has an unknown mode label of ${match[1].length} letters (write test:whsec_… or live:whsec_…, or the key alone for live)` };
}

function splitEntries(trimmed: string): string[] {
  let text = trimmed;
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        text = Object.values(parsed)
          .filter((value): value is string => typeof value === 'string')
          .join(' ');
      }
    } catch {
      // Not JSON after all: read as a plain list, whose problems then name the bad entry.
    }
  }
  return text.split(/\s+/).filter((entry) => entry.length > 0);
}

function stripPrefix(entry: string): string {
  return entry.startsWith(KEY_PREFIX) ? entry.slice(KEY_PREFIX.length) : entry;
}

/**
 * What is wrong with one key entry, described without quoting any of it. `labelLength`: characters
 * of the mode label before it, so a position counts from the start of what the operator wrote.
 */
function keyProblem(entry: string, labelLength = 0): string | undefined {
  if (/^v1[,=]/.test(entry)) {
    return 'looks like a signature header entry (v1,…), not a key: paste the whsec_… secret from the Dodo dashboard';
  }
  const body = stripPrefix(entry);
  if (body.length === 0) return 'is empty after the whsec_ prefix';
  const unpadded = body.replace(/={1,2}$/, '');
  if (!BASE64_BODY.test(unpadded)) {
    const offset = [...unpadded].findIndex((char) => !/[A-Za-z0-9+/]/.test(char));
    const prefixLength = labelLength + entry.length - body.length;
    return `is not base64: unexpected character at position ${prefixLength + offset + 1} (expected whsec_ followed by base64)`;
  }
  if (unpadded.length % 4 === 1 || (unpadded.length !== body.length && body.length % 4 !== 0)) {
    return `has an impossible base64 length (${body.length} characters after the prefix)`;
  }
  return undefined;
}

/** Why a request was refused. */
export type VerificationFailure =
  | 'missing-headers'
  | 'bad-timestamp'
  | 'timestamp-out-of-tolerance'
  | 'no-signing-keys'
  | 'no-matching-signature';

export type VerificationResult =
  /** `mode`: the mode of the key that verified the signature (the first in the secret's order that did). */
  | { readonly ok: true; readonly webhookId: string; readonly timestamp: number; readonly mode: WebhookMode }
  | { readonly ok: false; readonly reason: VerificationFailure };

export interface VerifyWebhookInput {
  /** The body exactly as received: a Buffer, or a string whose UTF-8 bytes are the body. */
  readonly rawBody: Buffer | string;
  /** Request headers, names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly keys: readonly SigningKey[];
  /** Accepted distance between `webhook-timestamp` and now, in both directions. */
  readonly toleranceSeconds: number;
  /** Current time in integer seconds since the epoch. */
  readonly nowSeconds: number;
}

export interface SignatureHeaders {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}

/** The three Standard Webhooks headers, whatever the case of their names; undefined if one is missing or empty. */
export function readSignatureHeaders(headers: Readonly<Record<string, string | undefined>>): SignatureHeaders | undefined {
  let id: string | undefined;
  let timestamp: string | undefined;
  let signature: string | undefined;
  for (const name of Object.keys(headers)) {
    switch (name.toLowerCase()) {
      case 'webhook-id':
        id = headers[name];
        break;
      case 'webhook-timestamp':
        timestamp = headers[name];
        break;
      case 'webhook-signature':
        signature = headers[name];
        break;
    }
  }
  if (!id || !timestamp || !signature) return undefined;
  return { id, timestamp, signature };
}

/** Integer seconds, no sign, no leading zeros, no fraction: what Dodo sends. */
const TIMESTAMP_SHAPE = /^(0|[1-9][0-9]{0,14})$/;

/** Verifies a Standard Webhooks request. Constant-time per comparison; never throws on bad input. */
export function verifyWebhook(input: VerifyWebhookInput): VerificationResult {
  const headers = readSignatureHeaders(input.headers);
  if (headers === undefined) return { ok: false, reason: 'missing-headers' };
  if (!TIMESTAMP_SHAPE.test(headers.timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const timestamp = Number(headers.timestamp);
  if (Math.abs(input.nowSeconds - timestamp) > input.toleranceSeconds) {
    return { ok: false, reason: 'timestamp-out-of-tolerance' };
  }
  if (input.keys.length === 0) return { ok: false, reason: 'no-signing-keys' };

  const candidates = v1Signatures(headers.signature);
  if (candidates.length > 0) {
    for (const key of input.keys) {
      // Compared as base64 text, like the reference library: a signature with different
      // padding or alphabet is not the same signature.
      const expected = Buffer.from(signatureOf(key.bytes, headers.id, headers.timestamp, input.rawBody));
      for (const candidate of candidates) {
        if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
          return { ok: true, webhookId: headers.id, timestamp, mode: key.mode };
        }
      }
    }
  }
  return { ok: false, reason: 'no-matching-signature' };
}

/** The base64 parts of the `v1,<base64>` entries of a signature header (other versions are skipped). */
function v1Signatures(header: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const entry of header.split(' ')) {
    if (entry.startsWith('v1,') && entry.length > 3) signatures.push(Buffer.from(entry.slice(3)));
  }
  return signatures;
}

/**
 * base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`. Fed to the HMAC in two parts rather than as one
 * concatenated Buffer: copying a 2 KB body into a new Buffer per request cost about a fifth of a
 * signature check (`npm run bench`, verifyVsReference).
 */
function signatureOf(key: Buffer, id: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8');
  if (typeof rawBody === 'string') hmac.update(rawBody, 'utf8');
  else hmac.update(rawBody);
  return hmac.digest('base64');
}

/**
 * Signs like Dodo does (Standard Webhooks `v1`): for the local `send` command and tests.
 * `key` is the decoded key bytes (a {@link SigningKey}'s `bytes`, see parseSigningKeys).
 */
export function signWebhook(key: Buffer, webhookId: string, timestamp: number | string, rawBody: Buffer | string): string {
  return `v1,${signatureOf(key, webhookId, String(timestamp), rawBody)}`;
}
