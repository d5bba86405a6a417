import type { SlackMessage } from '../shared/transformation';
import { escapeRegExp } from '../shared/regexp';

/** What Slack answered, or why there was no answer. Never contains the webhook URL. */
export type SlackPostResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      /**
       * Response body as one line of at most a few hundred characters (Slack answers `ok`,
       * `invalid_payload`, `channel_not_found`, …), with the webhook URL's path, query and token
       * segments and anything like a Slack webhook URL removed ({@link redactSlackAnswer}).
       */
      readonly body: string;
      /** Seconds from a `Retry-After` header, when Slack sent one (429). */
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'network-error'; readonly code: string };

export type PostToSlack = (url: string, message: SlackMessage) => Promise<SlackPostResult>;

export interface SlackClientOptions {
  /** Whole-request timeout (connect, send, answer), enforced with an AbortSignal (requestTimeout). */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Longest answer text kept (reasons, logs, dead-letter attributes). */
const MAX_BODY_CHARS = 300;

/**
 * Posts one message to a Slack incoming webhook. Never throws and never puts the URL in what it
 * returns: fetch errors are reduced to their error code (`ECONNRESET`, …), because their messages
 * and causes can include the request URL, which is a credential; the answer's body goes through
 * {@link redactSlackAnswer}, because a proxy or a stand-in Slack may echo the request path.
 */
export function createSlackClient(options: SlackClientOptions): PostToSlack {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return async (url, message) => {
    const { signal, clear } = requestTimeout(options.timeoutMs);
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(message),
        signal,
        redirect: 'error',
      });
      // The one place Slack's answer becomes text: everything downstream (reasons, logs, dead letters,
      // serve's progress lines) is built from this redacted body.
      const body = redactSlackAnswer(await response.text(), url);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      return { kind: 'response', status: response.status, body, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
    } catch (error) {
      if (signal.aborted) return { kind: 'timeout', timeoutMs: options.timeoutMs };
      return { kind: 'network-error', code: networkErrorCode(error) };
    } finally {
      clear();
    }
  };
}

/**
 * A signal that aborts after `timeoutMs`, and the function that stops its timer once the answer is
 * read. Not `AbortSignal.timeout()`: on Node 20 that signal costs ~10 µs to create (it is
 * transferable and its timer is held through a weak reference), this one ~4 µs, on every Slack call.
 */
export function requestTimeout(timeoutMs: number): { readonly signal: AbortSignal; readonly clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')), timeoutMs);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Retry-After as delta-seconds (what Slack sends) or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** A code for a failed request that names no URL or token: `ECONNRESET`, `TimeoutError`, `UNKNOWN`. */
export function networkErrorCode(error: unknown): string {
  // undici: TypeError('fetch failed') with cause { code: 'ECONNRESET' | 'UND_ERR_SOCKET' | … }
  const candidates = [error, (error as { cause?: unknown } | null)?.cause];
  for (const candidate of candidates) {
    const code = (candidate as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  }
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^\w+$/.test(name) ? name : 'UNKNOWN';
}

/** A short, URL-free description of a result, for logs and dead-letter attributes (`404 channel_not_found`). */
export function describeSlackResult(result: SlackPostResult): string {
  switch (result.kind) {
    case 'response':
      return `${result.status} ${result.body.replace(/\s+/g, ' ').trim()}`.trim();
    case 'timeout':
      return `timeout after ${result.timeoutMs} ms`;
    case 'network-error':
      return `network error ${result.code}`;
  }
}

/** How much of an answer is looked at: bounds the work on a huge body (Slack's answers are a word). */
const MAX_READ_CHARS = 16_384;
const REDACTED = '[redacted]';
/** Path segments of Slack webhook URLs that are not secret (`/services/T…/B…/…`, `/triggers/…`, `/workflows/…`). */
const PUBLIC_SEGMENTS: ReadonlySet<string> = new Set(['services', 'hooks', 'triggers', 'workflows', 'api']);
/** Shorter parts of the URL are not credential-like (and would eat pieces of Slack's error codes). */
const MIN_SECRET_CHARS = 4;

/**
 * Slack's answer text fit for reasons, logs and dead letters: the status is kept by the caller and
 * Slack's error code (`channel_not_found`, `invalid_payload`) stays, while everything that could
 * carry the webhook URL's credential is replaced with `[redacted]`:
 * - the URL itself, its path, query and user info, and each of its path segments and query parts
 *   long enough to be a token (as given, percent-decoded and percent-encoded, in any case);
 * - anything that looks like a Slack webhook URL or path (`hooks.slack.com/…`, `/services/…`,
 *   `/triggers/…`, `/workflows/…`), whatever its token, and the path of any other URL.
 * JSON-escaped slashes (`\/`) are read as slashes first. Control characters and runs of whitespace
 * become one space, and the result is at most MAX_BODY_CHARS (300) characters: it is cut only after
 * redaction, so a token is never cut in two and half of it kept.
 */
export function redactSlackAnswer(text: string, url: string): string {
  let clean = text;
  if (clean.length > MAX_READ_CHARS) {
    // Drop the last word too: it may be the first half of a token cut at the limit.
    clean = clean.slice(0, MAX_READ_CHARS).replace(/\S*$/, '');
  }
  clean = clean.replace(/\\\//g, '/');
  const secrets = secretPatternOf(url);
  if (secrets !== undefined) clean = clean.replace(secrets, REDACTED);
  clean = clean
    .replace(/hooks\.slack\.com(?:[/?#]|%2F)[^\s"'<>]*/gi, `hooks.slack.com/${REDACTED}`)
    .replace(/\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s/?#"'<>]+)[/?#][^\s"'<>]*/gi, `$1/${REDACTED}`)
    .replace(/(?:\/|%2F)(services|triggers|workflows)(?:\/|%2F)[^\s"'<>]*/gi, `/$1/${REDACTED}`)
    .replace(/\[redacted\](?:(?:[/\\]|%2F)*\[redacted\])+/gi, REDACTED)
    // eslint-disable-next-line no-control-regex -- control characters are what this replace removes from the answer text
    .replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .trim();
  return clean.length > MAX_BODY_CHARS ? `${clean.slice(0, MAX_BODY_CHARS - 1)}…` : clean;
}

/**
 * The pattern of a URL's secret parts, built once per URL: every answer Slack gives (its 200 `ok`
 * included) is redacted, and building the parts and the RegExp per answer was about a seventh of
 * the transformer's CPU per event. Bounded: a route has one URL, and a rotation adds one.
 */
const SECRET_PATTERNS = new Map<string, RegExp | undefined>();
const MAX_SECRET_PATTERNS = 64;

function secretPatternOf(url: string): RegExp | undefined {
  if (SECRET_PATTERNS.has(url)) return SECRET_PATTERNS.get(url);
  const secrets = secretPartsOf(url);
  const pattern = secrets.length > 0 ? new RegExp(secrets.map(escapeRegExp).join('|'), 'gi') : undefined;
  if (SECRET_PATTERNS.size >= MAX_SECRET_PATTERNS) SECRET_PATTERNS.clear();
  SECRET_PATTERNS.set(url, pattern);
  return pattern;
}

/** The parts of a webhook URL that may carry its credential, longest first (so a whole path goes before its segments). */
function secretPartsOf(url: string): string[] {
  /** The URL and its path and query as a whole: secret whatever their length. */
  const wholes = new Set<string>();
  /** Path segments, query parts, user info: secret when long enough to be a token. */
  const pieces = new Set<string>();
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL (it was parsed before posting, so this is defensive): every piece of it is secret.
  }
  if (parsed === undefined) {
    wholes.add(url);
    for (const piece of url.split(/[/?#&=]+/)) pieces.add(piece);
  } else {
    const pathAndQuery = `${parsed.pathname}${parsed.search}`;
    // The host alone is not secret (hooks.slack.com): only with the path or query after it.
    if (pathAndQuery !== '/') {
      for (const whole of [url, parsed.href, `${parsed.host}${pathAndQuery}`, pathAndQuery, parsed.pathname, parsed.search]) wholes.add(whole);
    }
    for (const piece of [...parsed.pathname.split('/'), ...parsed.search.slice(1).split(/[&=]/), parsed.username, parsed.password]) pieces.add(piece);
  }
  const secrets = new Set<string>();
  const add = (part: string, minLength: number) => {
    for (const form of [part, safeDecode(part), encodeURIComponent(part), encodeURIComponent(safeDecode(part))]) {
      if (form.length >= minLength && !PUBLIC_SEGMENTS.has(form.toLowerCase())) secrets.add(form);
    }
  };
  for (const whole of wholes) if (whole !== '/') add(whole, 2);
  for (const piece of pieces) add(piece, MIN_SECRET_CHARS);
  return [...secrets].sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
