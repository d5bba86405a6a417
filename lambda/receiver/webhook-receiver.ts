/**
 * The receiver's decision for one HTTP request, transport-neutral: the Lambda adapter
 * (lambda/receiver/handler.ts) and the local server call the same function with their own ports.
 *
 * Answer table (the README's "What the receiver answers"):
 *   200 {"received":true}                  valid signature, event type forwarded (queued, with the mode
 *                                          of the key that verified it: test or live)
 *   200 {"received":true,"ignored":true}   valid signature, event type filtered out (not queued)
 *   401 {"error":…}                        missing headers, bad signature, timestamp outside tolerance
 *   400 {"error":…}                        signature fine but body not JSON or without a string `type`
 *   413 {"error":…}                        body over MAX_BODY_BYTES (checked first)
 *   503 {"error":…}                        signing key not configured / unreadable, or enqueue failed
 */
import { MAX_BODY_BYTES, type QueuedWebhook } from '../shared/webhook';
import { MetricName } from '../shared/metrics';
import { type CoreLogger, type CoreMetrics } from '../shared/ports';
import { InvalidPayloadError, SecretConfigurationError } from '../shared/errors';
import { compileEventGlobs } from '../shared/event-glob';
import { parseSigningKeys, readSignatureHeaders, verifyWebhook, type SigningKey, type VerificationFailure } from './signature';

/** What every outcome is called in logs (and returned to adapters for their own bookkeeping). */
export type ReceiverOutcome =
  | 'queued'
  | 'ignored'
  | 'unauthorized'
  | 'invalid-payload'
  | 'payload-too-large'
  | 'signing-key-not-configured'
  | 'signing-key-unavailable'
  | 'queue-unavailable';

export interface ReceiverRequest {
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * The body exactly as received: its bytes (base64 transport encoding already undone), or, when
   * the transport already holds it as text (API Gateway's plain `body`), that text, whose UTF-8
   * encoding is what was signed. Text is not copied into a Buffer and decoded back per request.
   */
  readonly body: Buffer | string;
}

export interface ReceiverResponse {
  readonly statusCode: number;
  /** Small JSON document. */
  readonly body: string;
  readonly outcome: ReceiverOutcome;
}

/** The part of CachedSecret the receiver needs. */
export interface SigningKeySource {
  get(): Promise<readonly SigningKey[]>;
  /** Refetch unless rate-limited; `refreshed: false` means the cached keys came back unchanged. */
  refresh(): Promise<{ readonly value: readonly SigningKey[]; readonly refreshed: boolean }>;
}

export interface WebhookReceiverDeps {
  readonly signingKeys: SigningKeySource;
  readonly enqueue: (webhook: QueuedWebhook) => Promise<void>;
  /** Event-type globs to forward; `["*"]` forwards everything. */
  readonly eventGlobs: readonly string[];
  readonly toleranceSeconds: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
}

const OUTCOME_METRIC: Readonly<Record<ReceiverOutcome, MetricName>> = {
  queued: MetricName.WebhookQueued,
  ignored: MetricName.WebhookIgnored,
  unauthorized: MetricName.SignatureFailure,
  'invalid-payload': MetricName.InvalidPayload,
  'payload-too-large': MetricName.PayloadTooLarge,
  'signing-key-not-configured': MetricName.ReceiverUnavailable,
  'signing-key-unavailable': MetricName.ReceiverUnavailable,
  'queue-unavailable': MetricName.ReceiverUnavailable,
};

const UNAUTHORIZED_MESSAGE: Readonly<Record<VerificationFailure, string>> = {
  'missing-headers': 'missing webhook-id, webhook-timestamp or webhook-signature header',
  'bad-timestamp': 'webhook-timestamp is not an integer number of seconds',
  'timestamp-out-of-tolerance': 'webhook-timestamp is outside the accepted tolerance',
  'no-signing-keys': 'invalid signature',
  'no-matching-signature': 'invalid signature',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The two accepted answers' bodies, serialised once rather than per webhook. */
const QUEUED_BODY = JSON.stringify({ received: true });
const IGNORED_BODY = JSON.stringify({ received: true, ignored: true });

/** What an answer's log line and metrics document say about the request (never a header value but the id). */
type AnswerFields = Record<string, string | number | undefined>;

/**
 * Builds the signing-key parser for a CachedSecret: logs each unusable key's problem (never the
 * key) and keeps the valid ones; throws SecretConfigurationError when none is usable.
 */
export function signingKeyParser(logger: CoreLogger): (secretString: string) => SigningKey[] {
  return (secretString) => {
    const { keys, problems } = parseSigningKeys(secretString);
    for (const problem of problems) logger.error('Signing secret has an unusable key', { problem });
    if (keys.length === 0) {
      throw new SecretConfigurationError(`the signing secret holds no usable key (${problems.length} problem(s) logged)`);
    }
    return keys;
  };
}

export function createWebhookReceiver(deps: WebhookReceiverDeps): (request: ReceiverRequest) => Promise<ReceiverResponse> {
  const isForwarded = compileEventGlobs(deps.eventGlobs);
  const now = deps.now ?? Date.now;
  const { logger, metrics } = deps;

  const answer = (
    outcome: ReceiverOutcome,
    statusCode: number,
    body: Record<string, unknown> | string,
    fields: AnswerFields,
  ): ReceiverResponse => {
    metrics.count(OUTCOME_METRIC[outcome]);
    const record = { ...fields, outcome, statusCode };
    // Every answer's fields travel with its metrics (on Lambda: the request's one EMF document, which
    // is searchable in the logs like any line). A refusal or failure is also logged as a warning or
    // error; an accepted webhook only at debug level: its own log line written beside the metrics
    // document was a fifth of the receiver's CPU per request and said nothing the document does not.
    metrics.annotate?.(record);
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'debug';
    logger[level]('Webhook answered', record);
    return { statusCode, body: typeof body === 'string' ? body : JSON.stringify(body), outcome };
  };

  const unavailable = (error: unknown, fields: AnswerFields): ReceiverResponse => {
    if (error instanceof SecretConfigurationError && error.isPlaceholder) {
      return answer('signing-key-not-configured', 503, { error: 'signing key not configured yet' }, { ...fields, reason: error.message });
    }
    // Secrets Manager errors and our own SecretConfigurationError messages never carry the value.
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
    return answer('signing-key-unavailable', 503, { error: 'signing key unavailable' }, { ...fields, reason });
  };

  return async (request) => {
    metrics.count(MetricName.WebhookReceived);
    const headers = readSignatureHeaders(request.headers);
    const bodyBytes = typeof request.body === 'string' ? Buffer.byteLength(request.body, 'utf8') : request.body.length;
    const fields: AnswerFields = { webhookId: headers?.id, bodyBytes };

    if (bodyBytes > MAX_BODY_BYTES) {
      return answer('payload-too-large', 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` }, fields);
    }
    if (headers === undefined) {
      // No secret fetch for requests that cannot be valid anyway.
      return answer('unauthorized', 401, { error: UNAUTHORIZED_MESSAGE['missing-headers'] }, { ...fields, reason: 'missing-headers' });
    }

    let keys: readonly SigningKey[];
    try {
      keys = await deps.signingKeys.get();
    } catch (error) {
      return unavailable(error, fields);
    }

    const verify = (candidateKeys: readonly SigningKey[]) =>
      verifyWebhook({
        rawBody: request.body,
        headers: request.headers,
        keys: candidateKeys,
        toleranceSeconds: deps.toleranceSeconds,
        nowSeconds: Math.floor(now() / 1000),
      });

    let verification = verify(keys);
    if (!verification.ok && verification.reason === 'no-matching-signature') {
      // The key may have just been rotated in the console: refetch once (rate-limited) before refusing.
      try {
        const refreshed = await deps.signingKeys.refresh();
        if (refreshed.refreshed) {
          logger.info('Signature mismatch: signing secret refetched', { webhookId: headers.id });
          verification = verify(refreshed.value);
        }
      } catch (error) {
        return unavailable(error, fields);
      }
    }
    if (!verification.ok) {
      return answer('unauthorized', 401, { error: UNAUTHORIZED_MESSAGE[verification.reason] }, { ...fields, reason: verification.reason });
    }

    let eventType: string;
    let text: string;
    try {
      text = typeof request.body === 'string' ? request.body : utf8.decode(request.body);
      eventType = eventTypeOf(JSON.parse(text));
    } catch (error) {
      const reason = error instanceof InvalidPayloadError ? error.message : 'body is not UTF-8 JSON';
      return answer('invalid-payload', 400, { error: reason }, { ...fields, reason });
    }
    fields.eventType = eventType;
    // Only test mode is said: a webhook without a mode is live, as every record queued before modes existed.
    if (verification.mode === 'test') fields.mode = 'test';

    if (!isForwarded(eventType)) {
      return answer('ignored', 200, IGNORED_BODY, fields);
    }
    try {
      await deps.enqueue({
        webhookId: headers.id,
        webhookTimestamp: headers.timestamp,
        eventType,
        body: text,
        ...(verification.mode === 'test' ? { mode: 'test' as const } : {}),
      });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      return answer('queue-unavailable', 503, { error: 'queue unavailable, retry later' }, { ...fields, reason });
    }
    return answer('queued', 200, QUEUED_BODY, fields);
  };
}

function eventTypeOf(envelope: unknown): string {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new InvalidPayloadError('body is not a JSON object');
  }
  const type = (envelope as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) throw new InvalidPayloadError('body has no string "type"');
  return type;
}
