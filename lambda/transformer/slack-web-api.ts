/**
 * A small client of the Slack Web API for app mode (a bot token instead of an incoming webhook):
 * `chat.postMessage`, `chat.update`, `chat.delete`, `conversations.history`, `conversations.replies`.
 *
 * Like the incoming-webhook client (slack-client.ts) it never throws and never lets the credential
 * out: the token travels only in the `Authorization: Bearer` header; fetch errors are reduced to
 * their code; what is kept of an answer is Slack's `error` code or, for an answer that is not
 * Slack's JSON, its text with anything token-like and any URL path removed.
 */
import { networkErrorCode, parseRetryAfter, redactSlackAnswer, requestTimeout } from './slack-client';

export type SlackApiMethod = 'chat.postMessage' | 'chat.update' | 'chat.delete' | 'conversations.history' | 'conversations.replies';

export type SlackApiResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** Slack's `ok`; false for an answer that is not Slack's JSON. */
      readonly ok: boolean;
      /** Slack's `error` code (`channel_not_found`, `ratelimited`), or a short redacted text of a non-JSON answer. */
      readonly error?: string;
      /** The parsed answer (`ts`, `channel`, `messages`, `response_metadata`); `{}` when not JSON. */
      readonly data: Readonly<Record<string, unknown>>;
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'network-error'; readonly code: string };

export interface SlackWebApi {
  call(token: string, method: SlackApiMethod, args: Readonly<Record<string, unknown>>): Promise<SlackApiResult>;
}

export interface SlackWebApiOptions {
  /** `https://slack.com/api/` (the default), or a stand-in's `http://127.0.0.1:PORT/api/`. */
  readonly baseUrl?: string;
  /** Whole-request timeout, enforced with an AbortSignal. */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** Methods that take JSON bodies; the read methods are sent form-encoded, which every method accepts. */
const JSON_METHODS: ReadonlySet<SlackApiMethod> = new Set(['chat.postMessage', 'chat.update', 'chat.delete']);

/** Anything shaped like a Slack token (bot, user, app, refresh, rotating). */
const TOKEN_SHAPE = /\b(?:xoxe\.)?xox[a-z]-[A-Za-z0-9-]+/gi;

/** `text` with `token` and anything token-shaped replaced, for logs and dead letters. */
export function redactToken(text: string, token: string): string {
  let clean = token.length >= 4 ? text.split(token).join('[redacted]') : text;
  clean = clean.replace(TOKEN_SHAPE, '[redacted]');
  return clean;
}

/** `https://slack.com/api` → `https://slack.com/api/`; throws a clear error for a value that is not an http(s) URL. */
export function normaliseSlackApiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`the Slack API URL must be an absolute URL such as ${DEFAULT_SLACK_API_URL}, got "${raw}"`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  // The bot token travels in a header: never in clear text beyond this machine.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`the Slack API URL must use https (http only on 127.0.0.1 or localhost), got ${url.protocol}//${url.host}`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url.toString();
}

export function createSlackWebApi(options: SlackWebApiOptions): SlackWebApi {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const baseUrl = normaliseSlackApiUrl(options.baseUrl ?? DEFAULT_SLACK_API_URL);
  return {
    async call(token, method, args) {
      const asJson = JSON_METHODS.has(method);
      const body = asJson ? JSON.stringify(args) : formEncode(args);
      const { signal, clear } = requestTimeout(options.timeoutMs);
      try {
        const response = await fetchImpl(`${baseUrl}${method}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': asJson ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
          },
          body,
          signal,
          redirect: 'error',
        });
        const text = await response.text();
        const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
        const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
        let data: Record<string, unknown> | undefined;
        try {
          const parsed = JSON.parse(text) as unknown;
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
        } catch {
          // not Slack's JSON (a proxy's page, a stand-in's text)
        }
        if (data !== undefined && typeof data.ok === 'boolean') {
          const error = typeof data.error === 'string' ? safeErrorCode(data.error) : undefined;
          return { kind: 'response', status: response.status, ok: data.ok && response.ok, data, ...(error === undefined ? {} : { error }), ...retry };
        }
        const error = redactToken(redactSlackAnswer(text, baseUrl), token) || `HTTP ${response.status}`;
        return { kind: 'response', status: response.status, ok: false, error, data: {}, ...retry };
      } catch (error) {
        if (signal.aborted) return { kind: 'timeout', timeoutMs: options.timeoutMs };
        return { kind: 'network-error', code: networkErrorCode(error) };
      } finally {
        clear();
      }
    },
  };
}

/** Slack's error codes are snake_case words; anything else is cut to that alphabet (it is logged). */
function safeErrorCode(error: string): string {
  return error.replace(/[^a-z0-9_.]/gi, '').slice(0, 100) || 'unknown_error';
}

function formEncode(args: Readonly<Record<string, unknown>>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) continue;
    form.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return form.toString();
}

/** A short, token-free description for reasons, logs and dead letters: `200 channel_not_found`, `timeout after 5000 ms`. */
export function describeApiResult(method: SlackApiMethod, result: SlackApiResult): string {
  switch (result.kind) {
    case 'response':
      return `${method} ${result.status} ${result.ok ? 'ok' : (result.error ?? 'not ok')}`;
    case 'timeout':
      return `${method} timeout after ${result.timeoutMs} ms`;
    case 'network-error':
      return `${method} network error ${result.code}`;
  }
}
