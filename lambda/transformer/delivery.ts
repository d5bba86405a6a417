/**
 * The delivery policy of the pipeline (the README's "What the transformer does with each event"),
 * as pure logic: built by createPipeline (pipeline.ts) and driven by the SQS handler on AWS and by
 * serve's delivery loop locally.
 *
 * For each record, every route whose globs match the event type gets the event; each route is
 * transformed, deduplicated (`${routeId}:${webhookId}`) and posted on its own. A record is only
 * retried or dead-lettered because of the routes that failed: on the next attempt the routes that
 * already succeeded are suppressed by deduplication.
 *
 * A precomposed record (a scheduled summary, {@link PrecomposedPost}) names its one route and
 * carries its Slack message: no glob matching, no transformation, the same deduplication, pacing,
 * retries and dead letters. Every other record is first counted for the summaries
 * (`countForSummaries`, once per webhook-id however often it is delivered), then delivered.
 */
import type { CoreLogger, CoreMetrics } from '../shared/ports';
import type { DodoWebhookEnvelope, QueuedWebhook } from '../shared/webhook';
import type { RouteConfig } from '../shared/function-env';
import type { SlackMessage, Transform, TransformInput } from '../shared/transformation';
import { MetricName } from '../shared/metrics';
import { SecretConfigurationError, TransformationError, TransformationUnavailableError } from '../shared/errors';
import { omit } from '../shared/omit';
import { withMentions, type RouteSelection } from '../shared/route-rules';
import type { RateLimiter } from './rate-limiter';
import type { CachedSecret } from '../shared/secret-cache';
import { describeSlackResult, type PostToSlack, type SlackPostResult } from './slack-client';
import { createAppDelivery, SlackAppFailure, type SlackAppDeps, type SlackAppTarget } from './slack-app-delivery';
import { markTestMode } from '../messages/test-mode';
import { namesWanted, type KnownNames } from '../shared/names';
import type { NameLookup } from '../shared/ports';

/** The body of a precomposed record: which route posts it, and the message. */
export interface PrecomposedPost {
  readonly route: string;
  readonly message: SlackMessage;
}

/** Reads a precomposed record's body; throws with the reason when it is not one. */
export function parsePrecomposedPost(body: string): PrecomposedPost {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('the precomposed message body is not JSON');
  }
  const post = parsed as Partial<PrecomposedPost> | null;
  if (typeof post?.route !== 'string' || typeof post.message !== 'object' || post.message === null || typeof post.message.text !== 'string') {
    throw new Error('a precomposed message body is {"route": "…", "message": {"text": "…", …}}');
  }
  return post as PrecomposedPost;
}

/** What a route's delivery produced, as stored by deduplication (JSON). */
export type RouteDone = 'delivered' | 'skipped';

/**
 * Deduplication port. Runs `fn` unless a completed record exists for `key` (then returns its stored
 * value with `duplicate: true`). A record is kept only when `fn` resolves: when it throws, the
 * record is removed and the error rethrown, so retries and redrives are never blocked.
 * Throws {@link DeliveryInProgressError} while another consumer holds the key.
 */
export type RunOnce = (key: string, fn: () => Promise<RouteDone>) => Promise<{ readonly value: RouteDone; readonly duplicate: boolean }>;

/** Another consumer is delivering the same route + webhook right now (SQS delivered it twice at once). */
export class DeliveryInProgressError extends Error {
  override name = 'DeliveryInProgressError';
}

/** A route posting to an incoming webhook (the default), or with a bot token in app mode (`slackApp`). */
export type DeliveryRoute = {
  readonly config: RouteConfig;
  /** Which events the route takes and the mentions it adds (route-rules.ts). */
  readonly selection: RouteSelection;
  readonly transform: Transform;
} & ({ readonly slackUrl: CachedSecret<string>; readonly slackApp?: undefined } | { readonly slackApp: SlackAppTarget; readonly slackUrl?: undefined });

export interface DeliveryDeps {
  readonly routes: readonly DeliveryRoute[];
  readonly runOnce: RunOnce;
  readonly postToSlack: PostToSlack;
  /** Paces posts: per incoming-webhook URL, and in app mode `chat.postMessage` per channel. */
  readonly rateLimiter: RateLimiter;
  /** Threads, cards and the Web API client of app-mode routes; required when a route has `slackApp`. */
  readonly slackApp?: SlackAppDeps;
  /** The queue's maxReceiveCount: at this receive a failing record is dead-lettered by us, with its reason. */
  readonly maxReceiveCount: number;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
  readonly now?: () => number;
  /**
   * Time one more Slack request needs (timeout plus margin). A record is not started when less
   * than this remains (`remainingTimeMs`), and is retried without counting as its failure.
   * @default 0
   */
  readonly reserveTimeMs?: number;
  /** First retry delay for 5xx / network / timeout / secret problems; doubles per receive. @default 30 */
  readonly baseBackoffSeconds?: number;
  /** @default 900 (15 minutes) */
  readonly maxBackoffSeconds?: number;
  /** Delay for records whose turn never came (no time left, another consumer busy). @default 0 */
  readonly deferDelaySeconds?: number;
  /**
   * Adds a webhook to the summaries' aggregates, at most once per webhook-id (the store's
   * condition), before it is delivered. A rejection never holds the delivery back: the event is
   * posted, and the record comes back with backoff (its routes then duplicates) until the count
   * succeeds or its receives run out. @default - summaries off
   */
  readonly countForSummaries?: (webhook: QueuedWebhook) => Promise<void>;
  /** Names for the IDs built-in messages show (Dodo API look-ups, bounded in time, never failing). @default - IDs only */
  readonly names?: NameLookup;
  /**
   * The count of a webhook was given up: record, if the store takes it now, that its period is
   * incomplete (best effort; a failure is logged). @default - not recorded
   */
  readonly countGivenUp?: (webhook: QueuedWebhook) => Promise<void>;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly webhook: QueuedWebhook;
  /** 1 on the first delivery attempt (SQS ApproximateReceiveCount). */
  readonly receiveCount: number;
  /**
   * Deliver to this route only (an engine that keeps one record per route, as serve's store does);
   * unset: every route that takes the event (one SQS message for all routes).
   */
  readonly routeId?: string;
}

export type RouteResult = { readonly routeId: string; readonly result: RouteDone | 'duplicate' };

export type RecordOutcome =
  /** Every matching route delivered, skipped, or already done before (duplicate). */
  | { readonly kind: 'done'; readonly routes: readonly RouteResult[] }
  /** Return the record to the queue, visible again after `delaySeconds`. */
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly reason: string }
  /**
   * The record was not (fully) attempted through no failure of its own (429 elsewhere in the batch,
   * no time left) and this is its last receive: put a fresh copy on the queue (receive count starts
   * again) instead of letting the queue move it to the dead-letter queue without a reason.
   */
  | { readonly kind: 'requeue'; readonly delaySeconds: number; readonly reason: string }
  /** Send to the dead-letter queue with these details, then acknowledge the record. */
  | {
      readonly kind: 'dead-letter';
      readonly reason: string;
      readonly attempts: number;
      readonly lastSlackResponse?: string;
      readonly routeId?: string;
    };

export interface DeliveryProcessor {
  processBatch(records: readonly DeliveryRecord[], options?: { readonly remainingTimeMs?: () => number }): Promise<Map<string, RecordOutcome>>;
}

/** Why one route did not complete. Thrown inside runOnce so no dedup record is kept. */
type RouteFailureKind =
  /** Dead-letter now (400, 4xx, transformation error, 404 after refetching the secret). */
  | 'permanent'
  /** 5xx, network, timeout, secret not set yet: retry with backoff until maxReceiveCount. */
  | 'transient'
  /** 429: retry after Retry-After; stop the batch. */
  | 'rate-limited'
  /** Not attempted (no time left, or another consumer is on it). */
  | 'deferred';

class RouteFailure extends Error {
  override name = 'RouteFailure';
  constructor(
    readonly kind: RouteFailureKind,
    readonly reason: string,
    readonly lastSlackResponse?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(reason);
  }
}

/** Slack's answers that mean "this webhook URL no longer works": refetch the secret once. */
const URL_GONE_STATUSES = new Set([403, 404, 410]);
/** SQS ChangeMessageVisibility maximum. */
const MAX_VISIBILITY_SECONDS = 43_200;

export function createDeliveryProcessor(deps: DeliveryDeps): DeliveryProcessor {
  const now = deps.now ?? Date.now;
  const reserveTimeMs = deps.reserveTimeMs ?? 0;
  const baseBackoff = deps.baseBackoffSeconds ?? 30;
  const maxBackoff = deps.maxBackoffSeconds ?? 900;
  const deferDelay = deps.deferDelaySeconds ?? 0;
  const { logger, metrics } = deps;
  const { routes } = deps;
  if (routes.some((route) => route.slackApp !== undefined) && deps.slackApp === undefined) {
    throw new Error('a route posts with a Slack bot token but the delivery processor has no slackApp (thread store and Web API client)');
  }
  const deliverToApp = deps.slackApp === undefined ? undefined : createAppDelivery(deps.slackApp);

  const backoffSeconds = (receiveCount: number) => Math.min(maxBackoff, baseBackoff * 2 ** Math.max(0, receiveCount - 1));

  /** `timeLeftMs`: what remains of the invocation beyond `reserveTimeMs` (Infinity outside Lambda). */
  async function post(url: string, message: SlackMessage, timeLeftMs: () => number): Promise<SlackPostResult> {
    // Never sleep in the pacing past the invocation's end (a long 429 pause): the Lambda would be
    // killed mid-batch and every record of it would lose a receive for nothing.
    if (!(await deps.rateLimiter.acquire(url, Math.max(0, timeLeftMs())))) {
      const waitSeconds = Math.ceil(deps.rateLimiter.waitMs(url) / 1000);
      throw new RouteFailure('deferred', `not attempted: Slack pacing waits ${waitSeconds} s, beyond this invocation`, undefined, waitSeconds);
    }
    if (timeLeftMs() < 0) throw new RouteFailure('deferred', 'not enough time left in this invocation');
    return deps.postToSlack(url, message);
  }

  function delivered(context: Record<string, unknown>, webhookTimestamp: string): void {
    metrics.count(MetricName.MessageDelivered);
    const sentAtMs = Number(webhookTimestamp) * 1000;
    if (Number.isFinite(sentAtMs) && sentAtMs > 0) metrics.milliseconds(MetricName.DeliveryLatency, Math.max(0, now() - sentAtMs));
    logger.info('Message delivered to Slack', context);
  }

  /** One route, inside runOnce: resolves only when the route is done; throws RouteFailure otherwise. */
  async function deliverRoute(
    route: (typeof routes)[number],
    record: DeliveryRecord,
    transformInput: () => TransformInput,
    timeLeftMs: () => number,
    precomposed?: PrecomposedPost,
    knownNames?: () => Promise<KnownNames>,
  ): Promise<RouteDone> {
    const { webhook } = record;
    const context = { webhookId: webhook.webhookId, eventType: webhook.eventType, routeId: route.config.id, attempt: record.receiveCount };

    let outcome;
    try {
      // Built-in templates show names where the look-ups found them; user code gets the event as Dodo sent it.
      const input = knownNames !== undefined && route.config.transformation.kind === 'builtin' ? { ...transformInput(), names: await knownNames() } : undefined;
      outcome = precomposed ? ({ kind: 'message', message: precomposed.message } as const) : await route.transform(input ?? transformInput());
    } catch (error) {
      metrics.count(MetricName.TransformationError);
      const reason = error instanceof SyntaxError ? 'the webhook body is not JSON' : `transformation failed: ${errorMessage(error)}`;
      logger.error('Transformation failed', { ...context, reason });
      // Code that could not be loaded in this instance is no fault of the event: retry it.
      throw new RouteFailure(error instanceof TransformationUnavailableError ? 'transient' : 'permanent', reason);
    }
    // A test-mode event's message says so, whatever made it (built-in templates or user code).
    if (webhook.mode === 'test' && outcome.kind === 'message') outcome = { kind: 'message', message: markTestMode(outcome.message) } as const;
    if (outcome.kind === 'skip') {
      metrics.count(MetricName.MessageSkipped);
      logger.info('Message skipped by the transformation', { ...context, reason: outcome.reason });
      return 'skipped';
    }
    if (!precomposed) outcome = { kind: 'message', message: withMentions(outcome.message, route.selection.mentionsFor(webhook)) };

    if (route.slackApp !== undefined) {
      const input = transformInput();
      try {
        const result = await deliverToApp!({
          routeId: route.config.id,
          target: route.slackApp,
          webhookId: webhook.webhookId,
          eventType: webhook.eventType,
          ...(webhook.mode === 'test' ? { mode: 'test' as const } : {}),
          envelope: input.envelope,
          ...(knownNames !== undefined && route.config.transformation.kind === 'builtin' ? { names: await knownNames() } : {}),
          message: outcome.message,
          retried: record.receiveCount > 1,
          acquirePost: (channel) => deps.rateLimiter.acquire(`channel ${channel}`, Math.max(0, timeLeftMs())),
          pausePost: (channel, seconds) => deps.rateLimiter.pause(`channel ${channel}`, seconds),
          timeLeftMs,
          logger,
        });
        delivered(context, webhook.webhookTimestamp);
        logger.debug('Slack calls of this delivery', { ...context, threadKey: result.threadKey, calls: result.calls, foundExisting: result.foundExisting });
        return 'delivered';
      } catch (error) {
        if (!(error instanceof SlackAppFailure)) throw new RouteFailure('transient', `Slack app delivery failed: ${errorMessage(error)}`);
        if (error.kind === 'rate-limited') metrics.count(MetricName.SlackRateLimited);
        throw new RouteFailure(error.kind === 'credential' ? 'permanent' : error.kind, error.reason, error.lastSlackResponse, error.retryAfterSeconds);
      }
    }

    let url: string;
    try {
      url = await route.slackUrl.get();
    } catch (error) {
      // Placeholder or malformed secret: the operator will fix it; retry until the last attempt.
      const reason = error instanceof SecretConfigurationError ? error.message : `cannot read the Slack secret: ${errorMessage(error)}`;
      throw new RouteFailure('transient', reason);
    }

    // `thread_key` is an app-mode choice (slack-app-delivery.ts); an incoming webhook gets the message alone.
    const webhookMessage = 'thread_key' in outcome.message ? withoutThreadKey(outcome.message) : outcome.message;
    let result = await post(url, webhookMessage, timeLeftMs);
    if (result.kind === 'response' && URL_GONE_STATUSES.has(result.status)) {
      const first = describeSlackResult(result);
      let refreshed: { value: string; refreshed: boolean };
      try {
        refreshed = await route.slackUrl.refresh();
      } catch (error) {
        throw new RouteFailure('permanent', `Slack answered ${first} and the Slack secret cannot be read again: ${errorMessage(error)}`, first);
      }
      const refreshedUrl = refreshed.value;
      if (refreshedUrl === url) {
        // The refetch was rate-limited (the secret was read moments ago): we could not check for a
        // rotation, so try again later rather than dead-letter a message a new URL might take.
        if (!refreshed.refreshed) throw new RouteFailure('transient', `Slack answered ${first}; the Slack secret was read moments ago, checking it again on the next attempt`, first);
        // Retrying the URL that just answered "gone" cannot help; only a rotated URL gets the one retry.
        throw new RouteFailure('permanent', `Slack answered ${first} (the Slack secret has not changed)`, first);
      }
      logger.info('Slack secret changed after a "gone" answer; retrying once with the new URL', { ...context, slackResponse: first });
      url = refreshedUrl;
      result = await post(url, webhookMessage, timeLeftMs);
    }

    const described = describeSlackResult(result);
    if (result.kind === 'response') {
      if (result.status >= 200 && result.status < 300) {
        delivered(context, webhook.webhookTimestamp);
        return 'delivered';
      }
      if (result.status === 429) {
        metrics.count(MetricName.SlackRateLimited);
        const retryAfter = result.retryAfterSeconds ?? 1;
        deps.rateLimiter.pause(url, retryAfter);
        throw new RouteFailure('rate-limited', `Slack rate limit (429), retry after ${retryAfter} s`, described, retryAfter);
      }
      if (result.status >= 500) throw new RouteFailure('transient', `Slack answered ${described}`, described);
      // 400 invalid_payload, no_text, and 403/404/410 again after the new URL: an operator must act.
      if (result.status === 400) metrics.count(MetricName.TransformationError);
      throw new RouteFailure('permanent', `Slack answered ${described}`, described);
    }
    throw new RouteFailure('transient', `Slack request failed: ${described}`, described);
  }

  return {
    async processBatch(records, options = {}) {
      const remainingTimeMs = options.remainingTimeMs;
      const timeLeftMs = () => (remainingTimeMs === undefined ? Infinity : remainingTimeMs() - reserveTimeMs);
      const hasTime = () => timeLeftMs() >= 0;
      const outcomes = new Map<string, RecordOutcome>();
      /** Set by a 429: the records after it are not attempted and come back after this delay. */
      let batchRateLimitSeconds: number | undefined;

      for (const record of records) {
        const transformInput = once(() => transformInputOf(record.webhook));
        const names = deps.names;
        // Looked up once per record, for every built-in route that takes it.
        const knownNames = names === undefined || record.webhook.precomposed ? undefined : onceAsync(() => names.find(namesWanted(transformInput().envelope), record.webhook.mode ?? 'live'));
        const isLastReceive = record.receiveCount >= deps.maxReceiveCount;
        const notAttempted = (delaySeconds: number, reason: string): RecordOutcome =>
          isLastReceive ? { kind: 'requeue', delaySeconds, reason } : { kind: 'retry', delaySeconds, reason };

        if (batchRateLimitSeconds !== undefined) {
          outcomes.set(record.id, notAttempted(batchRateLimitSeconds, 'not attempted: Slack rate-limited this batch'));
          continue;
        }
        if (!hasTime()) {
          outcomes.set(record.id, notAttempted(deferDelay, 'not attempted: not enough time left in this invocation'));
          continue;
        }

        const results: RouteResult[] = [];
        const failures: { routeId: string; failure: RouteFailure }[] = [];
        let precomposed: PrecomposedPost | undefined;
        let countFailure: string | undefined;
        if (record.webhook.precomposed) {
          try {
            precomposed = parsePrecomposedPost(record.webhook.body);
            const routeId = precomposed.route;
            if (!routes.some((route) => route.config.id === routeId)) throw new Error(`it names the route "${routeId}", which this deployment does not have`);
          } catch (error) {
            const outcome: RecordOutcome = { kind: 'dead-letter', reason: `precomposed message not delivered: ${errorMessage(error)}`, attempts: record.receiveCount };
            outcomes.set(record.id, outcome);
            logOutcome(record, outcome);
            continue;
          }
        } else if (record.routeId !== undefined && !routes.some((route) => route.config.id === record.routeId)) {
          const outcome: RecordOutcome = {
            kind: 'dead-letter',
            reason: `accepted for the route "${record.routeId}", which this configuration does not have (redrive it once the route is back, or its events go nowhere)`,
            attempts: record.receiveCount,
            routeId: record.routeId,
          };
          outcomes.set(record.id, outcome);
          logOutcome(record, outcome);
          continue;
        } else if (deps.countForSummaries) {
          try {
            await deps.countForSummaries(record.webhook);
          } catch (error) {
            // The summaries are secondary: the event is delivered all the same, and the record comes
            // back (its routes then duplicates) so the count is tried again.
            countFailure = errorMessage(error);
            logger.warn('Counting for the summaries failed; delivering anyway, the count is retried', { webhookId: record.webhook.webhookId, error: countFailure });
          }
        }
        for (const route of routes) {
          if (precomposed ? route.config.id !== precomposed.route : !route.selection.takes(record.webhook)) continue;
          if (record.routeId !== undefined && route.config.id !== record.routeId) continue;
          if (batchRateLimitSeconds !== undefined || !hasTime()) {
            failures.push({ routeId: route.config.id, failure: new RouteFailure('deferred', 'not attempted') });
            continue;
          }
          try {
            const { value, duplicate } = await deps.runOnce(`${route.config.id}:${record.webhook.webhookId}`, () => deliverRoute(route, record, transformInput, timeLeftMs, precomposed, knownNames));
            if (duplicate) {
              metrics.count(MetricName.DuplicateSuppressed);
              logger.info('Duplicate suppressed: already handled', { webhookId: record.webhook.webhookId, routeId: route.config.id });
            }
            results.push({ routeId: route.config.id, result: duplicate ? 'duplicate' : value });
          } catch (error) {
            const failure =
              error instanceof RouteFailure
                ? error
                : error instanceof DeliveryInProgressError
                  ? new RouteFailure('deferred', 'another consumer is delivering this webhook')
                  : new RouteFailure('transient', `deduplication store failed: ${errorMessage(error)}`);
            if (failure.kind === 'rate-limited') batchRateLimitSeconds = failure.retryAfterSeconds ?? 1;
            failures.push({ routeId: route.config.id, failure });
          }
        }

        let outcome = decide(record, results, failures, batchRateLimitSeconds);
        if (countFailure !== undefined && outcome.kind === 'done') {
          outcome = countAgain(record, outcome, countFailure);
          if (outcome.kind === 'done' && deps.countGivenUp) {
            await deps.countGivenUp(record.webhook).catch((error: unknown) => {
              logger.error('The summary of this event\'s period could not be marked incomplete either', { webhookId: record.webhook.webhookId, error: errorMessage(error) });
            });
          }
        }
        outcomes.set(record.id, outcome);
        logOutcome(record, outcome);
      }
      return outcomes;
    },
  };

  /**
   * Every route is done but the count failed: the record comes back with the usual backoff, its
   * routes suppressed as duplicates, until the count succeeds; at the last receive the count is
   * given up (said in the log) rather than the record dead-lettered for an event already delivered.
   */
  function countAgain(record: DeliveryRecord, done: Extract<RecordOutcome, { kind: 'done' }>, reason: string): RecordOutcome {
    if (record.receiveCount >= deps.maxReceiveCount) {
      logger.error('Counting for the summaries failed on every attempt; the summaries leave this event out', { webhookId: record.webhook.webhookId, attempts: record.receiveCount, error: reason });
      return done;
    }
    return { kind: 'retry', delaySeconds: clampVisibility(backoffSeconds(record.receiveCount)), reason: `delivered; counting for the summaries failed (${reason}), tried again` };
  }

  function decide(
    record: DeliveryRecord,
    results: RouteResult[],
    failures: { routeId: string; failure: RouteFailure }[],
    rateLimitSeconds: number | undefined,
  ): RecordOutcome {
    if (failures.length === 0) return { kind: 'done', routes: results };
    const isLastReceive = record.receiveCount >= deps.maxReceiveCount;
    const lastAnswer = (list: typeof failures) => list.map((f) => f.failure.lastSlackResponse).filter((r): r is string => r !== undefined).join('; ') || undefined;
    const deadLetter = (list: typeof failures): RecordOutcome => {
      const lastSlackResponse = lastAnswer(list);
      return {
        kind: 'dead-letter',
        reason: list.map((f) => (list.length > 1 ? `${f.routeId}: ${f.failure.reason}` : f.failure.reason)).join('; '),
        attempts: record.receiveCount,
        routeId: list.map((f) => f.routeId).join(','),
        ...(lastSlackResponse === undefined ? {} : { lastSlackResponse }),
      };
    };

    // Needs an operator whatever happens to the other routes; a redrive re-attempts only the routes not done.
    const permanent = failures.filter((f) => f.failure.kind === 'permanent');
    if (permanent.length > 0) return deadLetter(permanent);

    const transient = failures.filter((f) => f.failure.kind === 'transient');
    if (transient.length > 0) {
      if (isLastReceive) return deadLetter(transient);
      return { kind: 'retry', delaySeconds: clampVisibility(Math.max(rateLimitSeconds ?? 0, backoffSeconds(record.receiveCount))), reason: transient.map((f) => f.failure.reason).join('; ') };
    }

    // Only 429s and routes whose turn never came: not a failure of this record.
    const delaySeconds = clampVisibility(rateLimitSeconds ?? Math.max(deferDelay, ...failures.map((f) => f.failure.retryAfterSeconds ?? 0)));
    const reason = failures.map((f) => f.failure.reason).join('; ');
    return isLastReceive ? { kind: 'requeue', delaySeconds, reason } : { kind: 'retry', delaySeconds, reason };
  }

  function logOutcome(record: DeliveryRecord, outcome: RecordOutcome): void {
    const context = { webhookId: record.webhook.webhookId, eventType: record.webhook.eventType, attempt: record.receiveCount };
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
      case 'requeue':
        metrics.count(MetricName.DeliveryRetried);
        logger.warn('Delivery will be retried', { ...context, delaySeconds: outcome.delaySeconds, reason: outcome.reason, requeue: outcome.kind === 'requeue' });
        return;
      case 'dead-letter':
        metrics.count(MetricName.MessageDeadLettered);
        logger.error('Delivery stopped: message goes to the dead-letter queue', {
          ...context,
          reason: outcome.reason,
          routeId: outcome.routeId,
          lastSlackResponse: outcome.lastSlackResponse,
        });
        return;
    }
  }
}

/** What every route's transformation gets for one webhook; the body is parsed once per record, not per route. */
function transformInputOf(webhook: QueuedWebhook): TransformInput {
  return {
    webhookId: webhook.webhookId,
    eventType: webhook.eventType,
    envelope: JSON.parse(webhook.body) as DodoWebhookEnvelope,
    rawBody: webhook.body,
    headers: { 'webhook-id': webhook.webhookId, 'webhook-timestamp': webhook.webhookTimestamp },
  };
}

/** `compute` run at most once: its value, or the error it threw, is handed to every later caller. */
function once<T>(compute: () => T): () => T {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  return () => {
    if (result === undefined) {
      try {
        result = { ok: true, value: compute() };
      } catch (error) {
        result = { ok: false, error };
      }
    }
    if (result.ok) return result.value;
    throw result.error;
  };
}

/** `compute` started at most once; every caller gets its promise. */
function onceAsync<T>(compute: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    if (promise === undefined) {
      try {
        promise = compute();
      } catch (error) {
        promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return promise;
  };
}

function withoutThreadKey(message: SlackMessage): SlackMessage {
  return omit(message, 'thread_key');
}

/** Within SQS's visibility range. Fractions are kept for serve's delivery loop; the SQS adapter rounds up. */
function clampVisibility(seconds: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, seconds));
}

/** Error text for logs; TransformationError and SecretConfigurationError messages never carry secrets. */
function errorMessage(error: unknown): string {
  if (error instanceof TransformationError || error instanceof TransformationUnavailableError || error instanceof SecretConfigurationError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
