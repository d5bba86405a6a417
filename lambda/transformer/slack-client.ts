import type { SlackMessage } from '../shared/transformation';

/** What Slack answered, or why there was no answer. Never contains the webhook URL. */
export type SlackPostResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** Response body, trimmed to a few hundred characters (Slack answers `ok`, `invalid_payload`, …). */
      readonly body: string;
      /** Seconds from a `Retry-After` header, when Slack sent one (429). */
      readonly retryAfterSeconds?: number;
    }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'network-error'; readonly code: string };

export type PostToSlack = (url: string, message: SlackMessage) => Promise<SlackPostResult>;

export interface SlackClientOptions {
  /** Whole-request timeout (connect, send, answer), enforced with an AbortSignal. */
  readonly timeoutMs: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const MAX_BODY_CHARS = 300;

/**
 * Posts one message to a Slack incoming webhook. Never throws and never puts the URL in what it
 * returns: fetch errors are reduced to their error code (`ECONNRESET`, …), because their messages
 * and causes can include the request URL, which is a credential.
 */
export function createSlackClient(options: SlackClientOptions): PostToSlack {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return async (url, message) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(message),
        signal,
        redirect: 'error',
      });
      const body = (await response.text()).slice(0, MAX_BODY_CHARS);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      return { kind: 'response', status: response.status, body, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
    } catch (error) {
      if (signal.aborted) return { kind: 'timeout', timeoutMs: options.timeoutMs };
      return { kind: 'network-error', code: errorCode(error) };
    }
  };
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

function errorCode(error: unknown): string {
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
