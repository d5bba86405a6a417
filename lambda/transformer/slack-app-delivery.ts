/**
 * Delivery of one event to one route in Slack app mode (a bot token and a channel instead of an
 * incoming webhook), driven by the delivery core (delivery.ts) inside its `route:webhook-id`
 * deduplication:
 *
 *   1. The thread key: what the route's transformation set in `thread_key` (a key, or `null` for
 *      none), else the table in threads/thread-key.ts.
 *   2. No thread yet for the key: post the parent (the object's card) and store the thread. An event
 *      that arrives before its object's first event (Dodo may deliver out of order) starts the thread
 *      all the same; later events join it.
 *   3. A thread: apply the event to the card (never back to an older state, threads/card.ts) and,
 *      when it changed, `chat.update` the parent.
 *   4. Post the event's own message as a reply (`thread_ts`), broadcast to the channel when the
 *      route's `replyBroadcast` globs take the event type.
 *
 * Exactly once across unknown outcomes: every message carries metadata with the webhook-id, route
 * and role. When a post times out or its connection drops, and before every post of a retried
 * delivery, the message is looked up (`conversations.history` / `conversations.replies` with
 * `include_all_metadata`, in a short window) and not posted again when it is there.
 *
 * Pure logic over ports: the Web API client, the thread store and the rate limiters are injected.
 */
import type { SlackMessage } from '../shared/transformation';
import type { DodoWebhookEnvelope, WebhookMode } from '../shared/webhook';
import type { CoreLogger } from '../shared/ports';
import type { BuiltinTemplateOptions } from '../shared/transformation';
import { SecretConfigurationError } from '../shared/errors';
import type { CachedSecret } from '../shared/secret-cache';
import type { RateLimiter } from './rate-limiter';
import { describeApiResult, type SlackApiMethod, type SlackApiResult, type SlackWebApi } from './slack-web-api';
import { THREAD_KEY_SHAPE, threadKeyOf, type ThreadKey } from './threads/thread-key';
import { applyEvent, emptyCard, renderCard, sameCard } from './threads/card';
import type { KnownNames } from '../shared/names';
import { isOurMessage, messageMetadata, type MessageRole } from './threads/metadata';
import type { ThreadRecord, ThreadStore } from './threads/thread-store';
import { parseDate } from '../messages/templates/layout';
import { markTestMode } from '../messages/test-mode';

/** A route that posts with a bot token. */
export interface SlackAppTarget {
  readonly token: CachedSecret<string>;
  /** Channel ID (`C…`). */
  readonly channel: string;
  /** Whether an event's reply is also broadcast to the channel (`reply_broadcast`). */
  readonly broadcast: (eventType: string) => boolean;
  /** How the cards look (the route's built-in options; dashboard links). */
  readonly cardOptions?: BuiltinTemplateOptions;
}

/** What app mode shares across routes. */
export interface SlackAppDeps {
  readonly api: SlackWebApi;
  readonly threads: ThreadStore;
  /**
   * Tier 3 methods (`chat.update`, `chat.delete`, `conversations.*`): about 50 a minute per app and
   * workspace; keyed by method and route. `chat.postMessage` goes through the core's limiter, keyed
   * by channel (about one message a second per channel).
   */
  readonly tier3Limiter: RateLimiter;
  /** How far back a lookup searches for a message whose post had no answer. @default 3600 */
  readonly lookupWindowSeconds?: number;
  readonly now?: () => number;
}

/** Why an app-mode delivery did not complete; the core maps it onto its retry policy. */
export class SlackAppFailure extends Error {
  override name = 'SlackAppFailure';
  constructor(
    readonly kind: 'permanent' | 'transient' | 'rate-limited' | 'deferred' | 'credential',
    readonly reason: string,
    readonly lastSlackResponse?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(reason);
  }
}

/** Slack errors that mean "this token or channel does not work": refetch the secret once (like 403/404/410 for webhooks). */
export const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_in_channel',
  'channel_not_found',
  'is_archived',
]);
/** Slack errors worth another attempt later. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** `chat.update` errors that mean the parent is gone: the thread starts again with a new parent. */
const PARENT_GONE: ReadonlySet<string> = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

export interface AppDeliveryInput {
  readonly routeId: string;
  readonly target: SlackAppTarget;
  readonly webhookId: string;
  readonly eventType: string;
  /**
   * `test` for a test-mode event: its thread's card is marked as well as its reply (the reply comes
   * marked from the delivery core). Dodo's test and live modes have separate objects, so a test
   * object's thread only ever sees test-mode events. @default 'live'
   */
  readonly mode?: WebhookMode;
  readonly envelope: DodoWebhookEnvelope;
  /** Names look-ups found for the event's IDs (built-in routes with a Dodo API key): the card names the product. */
  readonly names?: KnownNames;
  /** The route's transformation output (may carry `thread_key`). */
  readonly message: SlackMessage & { readonly thread_key?: unknown };
  /** True when this delivery was attempted before: every post looks for an earlier copy first. */
  readonly retried: boolean;
  /** Waits for `chat.postMessage` pacing of `channel`; false when that would outlast the invocation. */
  readonly acquirePost: (channel: string) => Promise<boolean>;
  /** A `ratelimited` chat.postMessage: no post to `channel` for `seconds`. */
  readonly pausePost: (channel: string, seconds: number) => void;
  /** Milliseconds left for Slack calls (Infinity outside Lambda). */
  readonly timeLeftMs: () => number;
  readonly logger: CoreLogger;
}

/** Counts of Slack calls a delivery made, by method (for tests, the benchmark and logs). */
export type SlackCallCounts = Partial<Record<SlackApiMethod, number>>;

export interface AppDeliveryResult {
  readonly threadKey: ThreadKey | undefined;
  readonly calls: SlackCallCounts;
  /** The reply (or standalone message) was found already posted and not posted again. */
  readonly foundExisting: boolean;
}

/** Splits the transformation's `thread_key` choice from the message Slack gets. */
export function threadChoice(message: SlackMessage & { readonly thread_key?: unknown }, envelope: DodoWebhookEnvelope): { readonly key: ThreadKey | undefined; readonly message: SlackMessage } {
  const { thread_key: chosen, ...rest } = message;
  if (chosen === null) return { key: undefined, message: rest };
  if (typeof chosen === 'string' && THREAD_KEY_SHAPE.test(chosen)) return { key: chosen, message: rest };
  if (chosen !== undefined) {
    throw new SlackAppFailure('permanent', `the transformation set thread_key to ${typeof chosen === 'string' ? 'a string that is not a key (1-200 of A-Z a-z 0-9 _ . : -)' : `a ${typeof chosen}`}; use a key such as "payment:pay_123", or null for no thread`);
  }
  return { key: threadKeyOf(envelope), message: rest };
}

export function createAppDelivery(deps: SlackAppDeps) {
  const now = deps.now ?? Date.now;
  const lookupWindowSeconds = deps.lookupWindowSeconds ?? 3600;

  return async function deliverToApp(input: AppDeliveryInput): Promise<AppDeliveryResult> {
    let token: string;
    try {
      token = await input.target.token.get();
    } catch (error) {
      const reason = error instanceof SecretConfigurationError ? error.message : `cannot read the Slack bot token secret: ${error instanceof Error ? error.name : 'error'}`;
      throw new SlackAppFailure('transient', reason);
    }
    try {
      return await attempt(input, token);
    } catch (error) {
      if (!(error instanceof SlackAppFailure) || error.kind !== 'credential') throw error;
      // Like 403/404/410 for a webhook URL: the token may have been rotated; read it once more.
      let refreshed: { value: string; refreshed: boolean };
      try {
        refreshed = await input.target.token.refresh();
      } catch (refetchError) {
        throw new SlackAppFailure('permanent', `${error.reason} and the Slack bot token secret cannot be read again: ${refetchError instanceof Error ? refetchError.message : 'error'}`, error.lastSlackResponse);
      }
      if (refreshed.value === token) {
        if (!refreshed.refreshed) throw new SlackAppFailure('transient', `${error.reason}; the bot token secret was read moments ago, checking it again on the next attempt`, error.lastSlackResponse);
        throw new SlackAppFailure('permanent', `${error.reason} (the Slack bot token secret has not changed)`, error.lastSlackResponse);
      }
      input.logger.info('Slack bot token changed after a credential error; retrying once with the new token', { webhookId: input.webhookId, routeId: input.routeId, slackResponse: error.lastSlackResponse });
      try {
        return await attempt({ ...input, retried: true }, refreshed.value);
      } catch (second) {
        if (second instanceof SlackAppFailure && second.kind === 'credential') throw new SlackAppFailure('permanent', `${second.reason} (also with the new bot token)`, second.lastSlackResponse);
        throw second;
      }
    }
  };

  async function attempt(input: AppDeliveryInput, token: string): Promise<AppDeliveryResult> {
    const { routeId, target, webhookId, eventType, envelope } = input;
    const channel = target.channel;
    const calls: SlackCallCounts = {};
    const { key, message } = threadChoice(input.message, envelope);
    /** A retried delivery may have posted before: every post looks for its earlier copy first. */
    const lookFirst = input.retried;
    /** The thread's parent: the object's card, marked when the event is a test-mode one. */
    const cardMessage = (card: ThreadRecord['card']): SlackMessage => (input.mode === 'test' ? markTestMode(renderCard(card, target.cardOptions)) : renderCard(card, target.cardOptions));

    async function call(method: SlackApiMethod, args: Record<string, unknown>): Promise<SlackApiResult> {
      if (method === 'chat.postMessage') {
        if (!(await input.acquirePost(channel))) throw new SlackAppFailure('deferred', 'not attempted: Slack pacing of this channel waits beyond this invocation');
      } else if (!(await deps.tier3Limiter.acquire(`${method} ${routeId}`, Math.max(0, input.timeLeftMs())))) {
        const wait = Math.ceil(deps.tier3Limiter.waitMs(`${method} ${routeId}`) / 1000);
        throw new SlackAppFailure('deferred', `not attempted: Slack pacing of ${method} waits ${wait} s, beyond this invocation`, undefined, wait);
      }
      if (input.timeLeftMs() < 0) throw new SlackAppFailure('deferred', 'not enough time left in this invocation');
      calls[method] = (calls[method] ?? 0) + 1;
      const result = await deps.api.call(token, method, args);
      if (result.kind === 'response' && (result.status === 429 || result.error === 'ratelimited')) {
        const retryAfter = result.retryAfterSeconds ?? 1;
        if (method === 'chat.postMessage') input.pausePost(channel, retryAfter);
        else deps.tier3Limiter.pause(`${method} ${routeId}`, retryAfter);
        throw new SlackAppFailure('rate-limited', `Slack rate limit on ${method}, retry after ${retryAfter} s`, describeApiResult(method, result), retryAfter);
      }
      return result;
    }

    /** Fails the delivery for an answer that is not `ok` (or no answer). */
    function fail(method: SlackApiMethod, result: SlackApiResult): never {
      const described = describeApiResult(method, result);
      if (result.kind !== 'response') throw new SlackAppFailure('transient', `Slack request failed: ${described}`, described);
      if (result.error !== undefined && CREDENTIAL_ERRORS.has(result.error)) throw new SlackAppFailure('credential', `Slack answered ${described}`, described);
      if (result.status >= 500 || (result.error !== undefined && TRANSIENT_ERRORS.has(result.error))) throw new SlackAppFailure('transient', `Slack answered ${described}`, described);
      throw new SlackAppFailure('permanent', `Slack answered ${described}`, described);
    }

    /** The ts of this webhook's message with `role` (in `threadTs`'s thread), if Slack has it. */
    async function lookup(role: MessageRole, threadTs: string | undefined): Promise<string | undefined> {
      const oldest = ((now() - lookupWindowSeconds * 1000) / 1000).toFixed(6);
      const method: SlackApiMethod = threadTs === undefined ? 'conversations.history' : 'conversations.replies';
      let cursor: string | undefined;
      for (let page = 0; page < 5; page += 1) {
        const result = await call(method, {
          channel,
          ...(threadTs === undefined ? {} : { ts: threadTs }),
          oldest,
          limit: 200,
          include_all_metadata: true,
          ...(cursor === undefined ? {} : { cursor }),
        });
        if (result.kind !== 'response' || !result.ok) {
          // Could not check whether Slack has the message: never post it blind, try again later.
          if (result.kind === 'response' && result.error !== undefined && CREDENTIAL_ERRORS.has(result.error)) fail(method, result);
          const described = describeApiResult(method, result);
          throw new SlackAppFailure('transient', `cannot check whether Slack already has this message (${described}); retrying before posting it`, described);
        }
        const messages = Array.isArray(result.data.messages) ? (result.data.messages as unknown[]) : [];
        const found = messages.find((m) => isOurMessage(m, webhookId, routeId, role));
        if (found !== undefined) return String((found as { ts?: unknown }).ts);
        const next = (result.data.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
        if (typeof next !== 'string' || next === '') return undefined;
        cursor = next;
      }
      return undefined;
    }

    /** Posts once: on a retried delivery looks first; after a missing answer, looks before failing. */
    async function postOnce(role: MessageRole, body: SlackMessage, threadTs?: string): Promise<{ ts: string; found: boolean }> {
      if (lookFirst) {
        const ts = await lookup(role, threadTs);
        if (ts !== undefined) {
          input.logger.info('Slack already has this message (an earlier post whose answer was lost); not posting it again', { webhookId, routeId, role });
          return { ts, found: true };
        }
      }
      const result = await call('chat.postMessage', {
        ...body,
        channel,
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
        ...(role === 'reply' && target.broadcast(eventType) ? { reply_broadcast: true } : {}),
        metadata: messageMetadata({ webhookId, route: routeId, role, eventType, threadKey: key }),
      });
      if (result.kind === 'response' && result.ok && typeof result.data.ts === 'string') return { ts: result.data.ts, found: false };
      if (result.kind !== 'response') {
        // The post may have reached Slack: look before anything posts it again (if it is not
        // found, the delivery fails and its retry looks first, in case Slack was only slow).
        const ts = await lookup(role, threadTs);
        if (ts !== undefined) {
          input.logger.info('Slack did not answer in time but has the message; not posting it again', { webhookId, routeId, role, slackResponse: describeApiResult('chat.postMessage', result) });
          return { ts, found: true };
        }
      }
      return fail('chat.postMessage', result);
    }

    async function update(ts: string, card: ThreadRecord['card']): Promise<'ok' | 'gone'> {
      const result = await call('chat.update', { channel, ts, ...cardMessage(card) });
      if (result.kind === 'response' && result.ok) return 'ok';
      if (result.kind === 'response' && result.error !== undefined && PARENT_GONE.has(result.error)) return 'gone';
      return fail('chat.update', result);
    }

    const eventAt = parseDate(envelope.timestamp) ?? 0;

    if (key === undefined) {
      const posted = await postOnce('message', message);
      return { threadKey: undefined, calls, foundExisting: posted.found };
    }

    /** Starts the thread with a parent showing `card`; stores it over `previous` (a thread whose parent is gone or elsewhere). */
    async function startThread(previous: ThreadRecord | undefined): Promise<ThreadRecord> {
      const card = applyEvent(previous?.card ?? emptyCard(key!), envelope, input.names);
      const parent = await postOnce('parent', cardMessage(card));
      const record: ThreadRecord = { channel, ts: parent.ts, card, lastEventAt: Math.max(previous?.lastEventAt ?? 0, eventAt), version: (previous?.version ?? 0) + 1 };
      const stored = previous === undefined ? await deps.threads.create(routeId, key!, record) : await deps.threads.replace(routeId, key!, record, previous.version);
      if (stored) return record;
      // Another consumer started (or changed) the thread meanwhile: use theirs, remove our parent.
      const theirs = await deps.threads.get(routeId, key!);
      if (theirs === undefined) throw new SlackAppFailure('transient', `the thread store changed under us for ${key}; retrying`);
      if (!parent.found) {
        const removed = await call('chat.delete', { channel, ts: parent.ts });
        if (removed.kind !== 'response' || !removed.ok) input.logger.warn('Could not remove a duplicate thread parent', { webhookId, routeId, slackResponse: describeApiResult('chat.delete', removed) });
      }
      return joinThread(theirs);
    }

    /** Applies the event to an existing thread's card and updates the parent when the card changed. */
    async function joinThread(thread: ThreadRecord): Promise<ThreadRecord> {
      let current = thread;
      for (let round = 0; round < 3; round += 1) {
        const card = applyEvent(current.card, envelope, input.names);
        if (sameCard(card, current.card)) return current;
        if ((await update(current.ts, card)) === 'gone') return startThread(current);
        const record: ThreadRecord = { ...current, card, lastEventAt: Math.max(current.lastEventAt, eventAt), version: current.version + 1 };
        if (await deps.threads.replace(routeId, key!, record, current.version)) return record;
        const latest = await deps.threads.get(routeId, key!);
        if (latest === undefined) return startThread(undefined);
        current = latest;
      }
      throw new SlackAppFailure('transient', `the card of ${key} kept changing under us; retrying`);
    }

    const existing = await deps.threads.get(routeId, key);
    const thread = existing === undefined || existing.channel !== channel ? await startThread(existing) : await joinThread(existing);
    const reply = await postOnce('reply', message, thread.ts);
    return { threadKey: key, calls, foundExisting: reply.found };
  }
}
