/**
 * Which events a route takes and what it adds to their messages, decided in one place for every
 * engine and for `dodo-slack routes`: a route takes an event when its event-type globs match, the
 * mode whose signing key verified it is one of the route's `modes`, and its `filter` holds on the
 * envelope. A route's `mentions` are added to the messages whose event their own filter matches.
 */
import type { RouteConfig, RouteMention } from './function-env';
import type { QueuedWebhook, WebhookMode } from './webhook';
import { WEBHOOK_MODES } from './webhook';
import type { SlackMessage } from './transformation';
import { compileEventGlobs } from './event-glob';
import { compileFilter, explainFilter, filterProblems, type RouteFilter } from './route-filter';

/** What decides whether a route takes an event (a RouteConfig, the construct's route, a config file's route). */
export type RouteRules = Pick<RouteConfig, 'events' | 'filter' | 'modes' | 'mentions'>;

export interface RouteSelection {
  /** Whether the route takes the event. */
  takes(webhook: QueuedWebhook): boolean;
  /** Why the route does not take the event (its globs, its modes or the first filter condition that fails); undefined when it does. */
  whyNot(webhook: QueuedWebhook): string | undefined;
  /** The mentions (Slack syntax, e.g. `<!subteam^S0123>`) the route adds to this event's message, in configuration order; none for a test-mode event. */
  mentionsFor(webhook: QueuedWebhook): string[];
}

/** `@here`, `@channel`, a user ID (`U…`, `W…`) or a user-group ID (`S…`), as written in a route's `mentions`. */
const MENTION_SHAPE = /^(@here|@channel|[UW][A-Z0-9]{2,}|S[A-Z0-9]{2,})$/;

/** A mention as Slack's mrkdwn writes it. */
export function slackMention(mention: string): string {
  if (mention === '@here' || mention === '@channel') return `<!${mention.slice(1)}>`;
  if (mention.startsWith('S')) return `<!subteam^${mention}>`;
  return `<@${mention}>`;
}

/** The mode of a queued webhook (records without one are live). */
export function modeOf(webhook: Pick<QueuedWebhook, 'mode'>): WebhookMode {
  return webhook.mode ?? 'live';
}

// One parse of a record's body however many routes look at it; the record object lives as long as its delivery.
const parsedBodies = new WeakMap<QueuedWebhook, { readonly envelope: unknown } | undefined>();

/** The parsed body, or undefined when it is not JSON (the transformation then reports it as a dead letter). */
function envelopeOf(webhook: QueuedWebhook): { readonly envelope: unknown } | undefined {
  if (parsedBodies.has(webhook)) return parsedBodies.get(webhook);
  let parsed: { readonly envelope: unknown } | undefined;
  try {
    parsed = { envelope: JSON.parse(webhook.body) as unknown };
  } catch {
    parsed = undefined;
  }
  parsedBodies.set(webhook, parsed);
  return parsed;
}

export function compileRouteSelection(rules: RouteRules): RouteSelection {
  const globs = compileEventGlobs(rules.events);
  const modes = new Set<WebhookMode>(rules.modes ?? WEBHOOK_MODES);
  const filter = isEmptyFilter(rules.filter) ? undefined : { source: rules.filter!, holds: compileFilter(rules.filter!) };
  const mentions = (rules.mentions ?? []).map((mention) => ({
    text: slackMention(mention.mention),
    holds: isEmptyFilter(mention.filter) ? () => true : compileFilter(mention.filter!),
  }));

  // A body that is not JSON cannot be filtered: the route takes it, so its transformation reports
  // the body as the reason of a dead letter instead of the event vanishing.
  const filterHolds = (webhook: QueuedWebhook): boolean => {
    if (filter === undefined) return true;
    const parsed = envelopeOf(webhook);
    return parsed === undefined || filter.holds(parsed.envelope);
  };

  return {
    takes: (webhook) => globs(webhook.eventType) && modes.has(modeOf(webhook)) && filterHolds(webhook),
    whyNot(webhook) {
      if (!globs(webhook.eventType)) return `its events (${rules.events.join(', ')}) do not include ${webhook.eventType}`;
      if (!modes.has(modeOf(webhook))) return `it takes ${[...modes].join(' and ')} mode only, and this is a ${modeOf(webhook)}-mode event`;
      if (filter === undefined) return undefined;
      const parsed = envelopeOf(webhook);
      if (parsed === undefined) return undefined;
      const reason = explainFilter(filter.source, parsed.envelope);
      return reason === undefined ? undefined : `its filter does not hold: ${reason}`;
    },
    mentionsFor(webhook) {
      // A test payment pages nobody: its message is marked TEST and goes out without the mentions.
      if (mentions.length === 0 || modeOf(webhook) === 'test') return [];
      const parsed = envelopeOf(webhook);
      if (parsed === undefined) return [];
      return [...new Set(mentions.filter((mention) => mention.holds(parsed.envelope)).map((mention) => mention.text))];
    },
  };
}

function isEmptyFilter(filter: RouteFilter | undefined): boolean {
  return filter === undefined || Object.keys(filter).length === 0;
}

/**
 * A message with the mentions in front: in `text` (what the built-in templates show and phones
 * notify with) and, for a message of top-level blocks (where `text` is not shown), in a first section.
 */
export function withMentions(message: SlackMessage, mentions: readonly string[]): SlackMessage {
  if (mentions.length === 0) return message;
  const prefix = mentions.join(' ');
  const text = `${prefix} ${message.text}`;
  const blocks = message.blocks;
  // Slack takes at most 50 blocks; a message at the limit keeps its mentions in `text` only.
  if (blocks === undefined || blocks.length === 0 || blocks.length >= 50) return { ...message, text };
  return { ...message, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: prefix } }, ...blocks] };
}

/** Problems of a route's `filter`, `modes` and `mentions` as written (each with its JSON path under `path`). */
export function routeRuleProblems(rules: { readonly filter?: unknown; readonly modes?: unknown; readonly mentions?: unknown }, path: string): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (rules.filter !== undefined) problems.push(...filterProblems(rules.filter, `${path}.filter`));
  if (rules.modes !== undefined) {
    const modes = rules.modes;
    if (!Array.isArray(modes) || modes.length === 0) {
      problems.push({ path: `${path}.modes`, message: `must be a non-empty array of "live" and "test", got ${JSON.stringify(modes)}` });
    } else {
      modes.forEach((mode: unknown, index) => {
        if (mode !== 'live' && mode !== 'test') problems.push({ path: `${path}.modes[${index}]`, message: `must be "live" or "test", got ${JSON.stringify(mode)}` });
      });
      if (new Set(modes).size !== modes.length) problems.push({ path: `${path}.modes`, message: 'lists a mode twice' });
    }
  }
  if (rules.mentions !== undefined) {
    if (!Array.isArray(rules.mentions)) {
      problems.push({ path: `${path}.mentions`, message: `must be an array of {"mention": "…", "filter": {…}}, got ${JSON.stringify(rules.mentions)}` });
    } else {
      (rules.mentions as unknown[]).forEach((entry, index) => {
        const at = `${path}.mentions[${index}]`;
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
          problems.push({ path: at, message: `must be an object {"mention": "…", "filter": {…}}, got ${JSON.stringify(entry)}` });
          return;
        }
        const { mention, filter, ...rest } = entry as Partial<RouteMention> & Record<string, unknown>;
        for (const key of Object.keys(rest)) problems.push({ path: `${at}.${key}`, message: 'is not a field of a mention; a mention has "mention" and "filter"' });
        if (typeof mention !== 'string' || !MENTION_SHAPE.test(mention)) {
          problems.push({
            path: `${at}.mention`,
            message: `must be "@here", "@channel", a user ID (U0123ABCD) or a user-group ID (S0123ABCD), got ${JSON.stringify(mention)}`,
          });
        }
        if (filter !== undefined) problems.push(...filterProblems(filter, `${at}.filter`));
      });
    }
  }
  return problems;
}
