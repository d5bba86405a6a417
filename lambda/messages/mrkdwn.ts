/**
 * Helpers for text that goes into Slack mrkdwn. Anything that came from a webhook payload must pass
 * through {@link escapeMrkdwn}: Slack treats `<...>` as links and mentions (`<!channel>`, `<@U123>`)
 * and `&` starts an entity, so an unescaped customer name could ping a channel or forge a link.
 */

const ELLIPSIS = '…';

/** Escapes the three characters Slack gives meaning to in mrkdwn and plain_text: `&`, `<`, `>`. */
export function escapeMrkdwn(text: string): string {
  // Most text has none of them: one scan instead of three replacements.
  if (!MRKDWN_SPECIAL.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const MRKDWN_SPECIAL = /[&<>]/;

/**
 * Cuts `text` to at most `max` UTF-16 code units (what Slack's limits count, conservatively),
 * ending with an ellipsis when it was cut. Never splits a surrogate pair, and never leaves half of
 * an escape entity (`&am…`) behind, so it is safe on already-escaped text.
 */
export function truncate(text: string, max: number): string {
  if (max < 1) return '';
  if (text.length <= max) return text;
  let cut = text.slice(0, max - ELLIPSIS.length);
  // A lone high surrogate at the end would render as a replacement character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  // A partial entity such as "&am" (from escapeMrkdwn) would render literally.
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  return cut + ELLIPSIS;
}

/** Escapes payload text and then fits it into `max` characters. */
export function escapeAndTruncate(text: string, max: number): string {
  return truncate(escapeMrkdwn(text), max);
}

/**
 * Slack's `<!date^…>` token: renders `unixSeconds` in each reader's own time zone, with the ISO
 * string as the fallback for clients that cannot render it.
 */
export function slackDate(unixSeconds: number, fallbackIso: string): string {
  return `<!date^${Math.floor(unixSeconds)}^{date_short_pretty} {time}|${escapeMrkdwn(fallbackIso)}>`;
}
