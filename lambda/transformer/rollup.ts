/**
 * Roll-ups, as pure logic beside the delivery core: when a route's backlog would keep
 * events waiting longer than `rollupAfter` at Slack's pace, many events go out as one message.
 *
 * Policy: a route folds when its foldable backlog ÷ its delivery rate exceeds `rollupAfterSeconds`.
 * Foldable: the route uses the built-in templates (user code decides per event, so its events keep
 * their own messages), and the event type is not one that must never fold (Defaults.rollupNeverFold
 * plus the user's globs).
 *
 * Exactly once, through the same RunOnce port the single deliveries use (SQLite in serve,
 * Powertools idempotency on DynamoDB on AWS): for each covered `route:webhook-id` runOnce is called
 * at once, and each claim's work is ONE shared promise. When every key has been decided — claimed,
 * already completed (a duplicate: left out of the roll-up) or in progress elsewhere (left out, retried
 * later) — the roll-up is posted once; its answer settles the shared promise, so a posted roll-up
 * completes every claimed key's record and a failed one removes them all. A failed roll-up is
 * retried as a whole, or its events go out singly afterwards; never both, because a single delivery
 * of a key a roll-up completed is a duplicate.
 */
import type { BuiltinTemplateOptions, SlackMessage } from '../shared/transformation';
import type { RouteConfig } from '../shared/function-env';
import type { CoreLogger, CoreMetrics } from '../shared/ports';
import type { DodoWebhookEnvelope, QueuedWebhook } from '../shared/webhook';
import type { CachedSecret } from '../shared/secret-cache';
import { Defaults } from '../shared/defaults';
import { Limits, withinLimit } from '../shared/limits';
import { MetricName } from '../shared/metrics';
import { compileEventGlobs } from '../shared/event-glob';
import { withMentions, type RouteSelection } from '../shared/route-rules';
import { renderRollupMessage, type RollupItem } from '../messages/templates/rollup';
import { mergeWanted, namesWanted, type KnownNames } from '../shared/names';
import type { NameLookup } from '../shared/ports';
import { DeliveryInProgressError, type DeliveryRecord, type RouteDone, type RunOnce } from './delivery';
import type { RateLimiter } from './rate-limiter';
import { describeSlackResult, type PostToSlack } from './slack-client';

export interface RollupSettings {
  /** Predicted wait (s) beyond which a route folds; 0 turns roll-ups off. @default Defaults.rollupAfterSeconds */
  readonly rollupAfterSeconds?: number;
  /** Event-type globs never folded, besides Defaults.rollupNeverFold. @default none */
  readonly neverFold?: readonly string[];
  /** @default Defaults.rollupMaxEvents */
  readonly maxEvents?: number;
}

export interface RollupPolicy {
  readonly enabled: boolean;
  readonly rollupAfterSeconds: number;
  readonly maxEvents: number;
  /** The event type may be folded (not a dispute, a payout failure or a user's never-fold glob). */
  isFoldable(eventType: string): boolean;
  /** `backlog` foldable events at `ratePerSecond` would wait longer than rollupAfter. */
  shouldFold(backlog: number, ratePerSecond: number): boolean;
}

/** Fewer distinct events than this are never a roll-up: they go out as their own messages. */
export const MIN_ROLLUP_EVENTS = 2;

export function rollupPolicy(settings: RollupSettings = {}): RollupPolicy {
  const rollupAfterSeconds = settings.rollupAfterSeconds ?? Defaults.rollupAfterSeconds;
  if (!(rollupAfterSeconds >= 0) || !Number.isFinite(rollupAfterSeconds)) throw new RangeError(`rollupAfterSeconds must be a number >= 0, got ${rollupAfterSeconds}`);
  const maxEvents = settings.maxEvents ?? Defaults.rollupMaxEvents;
  if (!Number.isInteger(maxEvents) || maxEvents < MIN_ROLLUP_EVENTS) throw new RangeError(`maxEvents must be an integer >= ${MIN_ROLLUP_EVENTS}, got ${maxEvents}`);
  const neverFold = compileEventGlobs([...Defaults.rollupNeverFold, ...(settings.neverFold ?? [])]);
  const enabled = rollupAfterSeconds > 0;
  return {
    enabled,
    rollupAfterSeconds,
    maxEvents,
    isFoldable: (eventType) => enabled && !neverFold(eventType),
    shouldFold: (backlog, ratePerSecond) => enabled && backlog >= MIN_ROLLUP_EVENTS && backlog / ratePerSecond > rollupAfterSeconds,
  };
}

/** `--rollup-after` / ROLLUP_AFTER_SECONDS: seconds, with `off` (or 0) turning roll-ups off. Undefined when not a valid value. */
export function parseRollupAfter(raw: string): number | undefined {
  const text = raw.trim().toLowerCase();
  if (text === 'off') return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const seconds = Number(text);
  return withinLimit(Limits.rollupAfterSeconds, seconds) ? seconds : undefined;
}

export interface RollupRoute {
  readonly config: RouteConfig;
  readonly selection: RouteSelection;
  readonly slackUrl: CachedSecret<string>;
}

export interface RollupDeps {
  readonly routes: readonly RollupRoute[];
  readonly policy: RollupPolicy;
  readonly runOnce: RunOnce;
  readonly postToSlack: PostToSlack;
  /** The same limiter the single deliveries use: roll-ups and single messages share Slack's pace. */
  readonly rateLimiter: RateLimiter;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
  /** Time one more Slack request needs; a roll-up is not posted with less left. @default 0 */
  readonly reserveTimeMs?: number;
  /**
   * Adds an event to the summaries' aggregates, once per webhook-id (AWS, with `summaries`; serve
   * counts at accept). Every event a roll-up covers is counted before it is posted, as
   * the single delivery counts before it posts; a failure leaves the roll-up to be retried.
   */
  readonly countForSummaries?: (webhook: QueuedWebhook) => Promise<void>;
  /** Product names for the events a roll-up lists (look-ups bounded in time, never failing). @default - IDs only */
  readonly names?: NameLookup;
}

/** Summary counts in flight at once for one roll-up (one UpdateItem each). */
const SUMMARY_COUNT_CONCURRENCY = 25;

/** What a roll-up attempt did. Webhook-ids, each once. */
export type RollupOutcome =
  /** Posted: `covered` are in the message (their records completed); `duplicates` were done before. */
  | { readonly kind: 'posted'; readonly covered: readonly string[]; readonly duplicates: readonly string[]; readonly elsewhere: readonly string[] }
  /**
   * Not posted; every claim was released (no record kept). `retryable`: try the roll-up again later
   * (429, 5xx, network, no time left); otherwise its events should go out as their own messages.
   */
  | {
      readonly kind: 'not-posted';
      readonly reason: string;
      readonly retryable: boolean;
      readonly retryAfterSeconds?: number;
      readonly lastSlackResponse?: string;
      /** Were claimed and released: what a retry or the single messages must still cover. */
      readonly released: readonly string[];
      readonly duplicates: readonly string[];
      readonly elsewhere: readonly string[];
    };

export interface RollupProcessor {
  readonly policy: RollupPolicy;
  /** Routes that could fold the event (they take it, use built-in templates, and its type may fold). */
  foldingRoutes(webhook: QueuedWebhook): readonly RouteConfig[];
  /** Routes that take the event at all. */
  matchingRoutes(webhook: QueuedWebhook): readonly RouteConfig[];
  /** Milliseconds until the route's next Slack post may go out (the shared pacing); 0 when unknown. */
  paceWaitMs(routeId: string): Promise<number>;
  /** Claims, posts one roll-up for `records` on `routeId`, settles the claims. Never throws. */
  deliver(routeId: string, records: readonly DeliveryRecord[], options?: { readonly remainingTimeMs?: () => number }): Promise<RollupOutcome>;
}

class RollupAbandoned extends Error {
  override name = 'RollupAbandoned';
}

export function createRollupProcessor(deps: RollupDeps): RollupProcessor {
  const { policy, logger, metrics } = deps;
  const reserveTimeMs = deps.reserveTimeMs ?? 0;
  const { routes } = deps;

  return {
    policy,
    matchingRoutes: (webhook) => routes.filter((route) => route.selection.takes(webhook)).map((route) => route.config),
    foldingRoutes: (webhook) =>
      policy.isFoldable(webhook.eventType)
        ? routes.filter((route) => route.config.transformation.kind === 'builtin' && route.selection.takes(webhook)).map((route) => route.config)
        : [],

    async paceWaitMs(routeId) {
      const route = routes.find((candidate) => candidate.config.id === routeId);
      if (!route) return 0;
      try {
        return deps.rateLimiter.waitMs(await route.slackUrl.get());
      } catch {
        // The single delivery reports a secret problem with its reason.
        return 0;
      }
    },

    async deliver(routeId, records, options = {}) {
      const route = routes.find((candidate) => candidate.config.id === routeId);
      const timeLeftMs = () => (options.remainingTimeMs === undefined ? Infinity : options.remainingTimeMs() - reserveTimeMs);
      const notPosted = (reason: string, retryable: boolean, extra: Partial<Extract<RollupOutcome, { kind: 'not-posted' }>> = {}): RollupOutcome => ({
        kind: 'not-posted',
        reason,
        retryable,
        released: [],
        duplicates: [],
        elsewhere: [],
        ...extra,
      });
      if (!route) return notPosted(`no route "${routeId}"`, false);
      const spec = route.config.transformation;
      const templateOptions: BuiltinTemplateOptions = spec.kind === 'builtin' ? spec.options : {};

      // Distinct webhook-ids, each with a parsed body; a body that is not JSON goes out singly (and is dead-lettered with its reason).
      const items = new Map<string, RollupItem>();
      const webhooks = new Map<string, QueuedWebhook>();
      for (const record of records) {
        // An event the route does not take (its filter or modes) is no part of its roll-up.
        if (items.has(record.webhook.webhookId) || !route.selection.takes(record.webhook)) continue;
        webhooks.set(record.webhook.webhookId, record.webhook);
        try {
          const envelope = JSON.parse(record.webhook.body) as DodoWebhookEnvelope;
          if (typeof envelope !== 'object' || envelope === null) continue;
          items.set(record.webhook.webhookId, { webhookId: record.webhook.webhookId, eventType: record.webhook.eventType, envelope });
        } catch {
          continue;
        }
      }

      if (deps.countForSummaries && items.size > 0) {
        const firstRecords = [...new Map(records.map((record) => [record.webhook.webhookId, record] as const)).values()].filter((record) => items.has(record.webhook.webhookId));
        try {
          for (let i = 0; i < firstRecords.length; i += SUMMARY_COUNT_CONCURRENCY) {
            await Promise.all(firstRecords.slice(i, i + SUMMARY_COUNT_CONCURRENCY).map((record) => deps.countForSummaries!(record.webhook)));
          }
        } catch (error) {
          // Not retried as a roll-up: the single-message path posts each event now and tries its count again.
          return notPosted(`could not count the events for the summaries: ${errorText(error)}`, false);
        }
      }

      // Claim every key at once; each claim's work is the one shared promise settled below.
      let settle!: { resolve: (value: RouteDone) => void; reject: (error: unknown) => void };
      const shared = new Promise<RouteDone>((resolve, reject) => (settle = { resolve, reject }));
      shared.catch(() => undefined);
      const claimed: string[] = [];
      const calls = [...items.keys()].map((webhookId) => {
        let decided!: () => void;
        const decision = new Promise<void>((resolve) => (decided = resolve));
        const result = deps
          .runOnce(`${routeId}:${webhookId}`, () => {
            claimed.push(webhookId);
            decided();
            return shared;
          })
          .then(
            ({ duplicate }) => ({ webhookId, duplicate, error: undefined as unknown }),
            (error: unknown) => ({ webhookId, duplicate: false, error }),
          );
        void result.then(() => decided());
        return { webhookId, decision, result };
      });
      await Promise.all(calls.map((call) => call.decision));
      const claimedSet = new Set(claimed);
      // Keys not claimed are decided because their runOnce already settled.
      const unclaimed = await Promise.all(calls.filter((call) => !claimedSet.has(call.webhookId)).map((call) => call.result));
      const duplicates = unclaimed.filter((r) => r.error === undefined && r.duplicate).map((r) => r.webhookId);
      const elsewhere = unclaimed.filter((r) => r.error !== undefined).map((r) => r.webhookId);
      for (const r of unclaimed) {
        if (r.error !== undefined && !(r.error instanceof DeliveryInProgressError)) {
          logger.warn('Deduplication store failed for an event of a roll-up; it is retried later', { webhookId: r.webhookId, routeId, error: errorText(r.error) });
        }
      }
      if (duplicates.length > 0) metrics.count(MetricName.DuplicateSuppressed, duplicates.length);

      const release = async (reason: string, retryable: boolean, extra: { retryAfterSeconds?: number; lastSlackResponse?: string } = {}): Promise<RollupOutcome> => {
        settle.reject(new RollupAbandoned(reason));
        await Promise.all(calls.map((call) => call.result));
        return notPosted(reason, retryable, { ...extra, released: claimed, duplicates, elsewhere });
      };

      if (claimed.length < MIN_ROLLUP_EVENTS) return release(`only ${claimed.length} event(s) left to fold`, false);

      // Roll-ups fold live-mode events only; their products are named when look-ups know them.
      let names: KnownNames | undefined;
      if (deps.names !== undefined) {
        const wanted = mergeWanted(claimed.map((id) => namesWanted(items.get(id)!.envelope)));
        names = await deps.names.find({ productIds: wanted.productIds, paymentIds: [] }, 'live');
      }
      let message: SlackMessage;
      try {
        // The route's mentions whose filter holds for any of the folded events, once each.
        const mentions = [...new Set(claimed.flatMap((id) => route.selection.mentionsFor(webhooks.get(id)!)))];
        message = withMentions(renderRollupMessage(claimed.map((id) => items.get(id)!), templateOptions, names), mentions);
      } catch (error) {
        return release(`the roll-up message could not be built: ${errorText(error)}`, false);
      }
      let url: string;
      try {
        url = await route.slackUrl.get();
      } catch (error) {
        return release(`cannot read the Slack secret: ${errorText(error)}`, true);
      }
      if (!(await deps.rateLimiter.acquire(url, Math.max(0, timeLeftMs())))) {
        return release('not attempted: Slack pacing waits beyond this invocation', true, { retryAfterSeconds: Math.ceil(deps.rateLimiter.waitMs(url) / 1000) });
      }
      if (timeLeftMs() < 0) return release('not attempted: not enough time left in this invocation', true);
      const result = await deps.postToSlack(url, message);
      const described = describeSlackResult(result);
      if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
        settle.resolve('delivered');
        // Every claimed record completed (one the store could not complete is logged by the RunOnce adapter: the message is in Slack).
        await Promise.all(calls.filter((call) => claimedSet.has(call.webhookId)).map((call) => call.result));
        metrics.count(MetricName.RollupPosted);
        metrics.count(MetricName.EventsRolledUp, claimed.length);
        logger.info('Roll-up delivered to Slack', { routeId, events: claimed.length, duplicates: duplicates.length, elsewhere: elsewhere.length });
        return { kind: 'posted', covered: claimed, duplicates, elsewhere };
      }
      if (result.kind === 'response' && result.status === 429) {
        metrics.count(MetricName.SlackRateLimited);
        const retryAfter = result.retryAfterSeconds ?? 1;
        deps.rateLimiter.pause(url, retryAfter);
        return release(`Slack rate limit (429), retry after ${retryAfter} s`, true, { retryAfterSeconds: retryAfter, lastSlackResponse: described });
      }
      const retryable = result.kind !== 'response' || result.status >= 500;
      logger.warn('Roll-up not delivered', { routeId, events: claimed.length, slackResponse: described, retryable });
      return release(result.kind === 'response' ? `Slack answered ${described}` : `Slack request failed: ${described}`, retryable, { lastSlackResponse: described });
    },
  };
}

/**
 * Whether a record may be folded at all, whatever its route: a precomposed record (a scheduled
 * summary) is a message of its own, never an event to fold; a test-mode event keeps its own
 * message, marked as test mode, so a roll-up never passes a test payment off as a real one.
 */
export function mayFold(webhook: Pick<QueuedWebhook, 'precomposed' | 'mode'>): boolean {
  return !webhook.precomposed && webhook.mode !== 'test';
}

/**
 * Which records to fold, per route: for each route whose foldable records (distinct webhook-ids)
 * would wait longer than rollupAfter at `ratePerSecond`, chunks of at most `maxEvents`, oldest
 * first. A record may appear for several routes.
 */
export function planRollups(
  processor: Pick<RollupProcessor, 'policy' | 'foldingRoutes'>,
  records: readonly DeliveryRecord[],
  ratePerSecond: number,
): { readonly routeId: string; readonly records: readonly DeliveryRecord[] }[] {
  const { policy } = processor;
  if (!policy.enabled) return [];
  const perRoute = new Map<string, DeliveryRecord[]>();
  for (const record of records) {
    // A precomposed record (a scheduled summary) and a test-mode event keep their own messages.
    if (!mayFold(record.webhook)) continue;
    for (const route of processor.foldingRoutes(record.webhook)) {
      if (record.routeId !== undefined && route.id !== record.routeId) continue;
      let list = perRoute.get(route.id);
      if (!list) perRoute.set(route.id, (list = []));
      list.push(record);
    }
  }
  const plan: { routeId: string; records: DeliveryRecord[] }[] = [];
  for (const [routeId, list] of perRoute) {
    const distinct = new Set(list.map((record) => record.webhook.webhookId)).size;
    if (!policy.shouldFold(distinct, ratePerSecond)) continue;
    let chunk: DeliveryRecord[] = [];
    let ids = new Set<string>();
    for (const record of list) {
      if (!ids.has(record.webhook.webhookId) && ids.size >= policy.maxEvents) {
        plan.push({ routeId, records: chunk });
        chunk = [];
        ids = new Set();
      }
      ids.add(record.webhook.webhookId);
      chunk.push(record);
    }
    if (ids.size >= MIN_ROLLUP_EVENTS) plan.push({ routeId, records: chunk });
  }
  return plan;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
}
