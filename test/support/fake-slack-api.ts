import type { IncomingMessage, ServerResponse } from 'node:http';
import { omit } from '../../lambda/shared/omit';
import { LoopbackServer, readBody } from './loopback-server';

/** A message as the stand-in keeps it in a channel. */
export interface StoredMessage {
  ts: string;
  channel: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Every version of the message, oldest first (chat.update appends). */
  versions: { text?: string; attachments?: unknown[]; blocks?: unknown[] }[];
}

export interface ApiCall {
  readonly method: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly args: Record<string, unknown>;
}

/** What the stand-in does with one call. */
export type ApiScript =
  /** Behave like Slack. */
  | { readonly kind: 'normal' }
  /** Answer this instead (nothing recorded). */
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }
  /** Do what Slack does (the message is in the channel), but answer only after `delayMs`. */
  | { readonly kind: 'record-then-slow'; readonly delayMs: number }
  /** Do what Slack does, then cut the connection without answering. */
  | { readonly kind: 'record-then-reset' }
  /** Cut the connection before doing anything (the request never reached Slack). */
  | { readonly kind: 'reset' };

export const normal: ApiScript = { kind: 'normal' };

/**
 * A real HTTP server on 127.0.0.1 standing in for the Slack Web API: chat.postMessage, chat.update,
 * chat.delete, conversations.history and conversations.replies (with `include_all_metadata`) over
 * channels it keeps in memory. Bearer tokens are checked (`invalid_auth`), channels must exist
 * (`channel_not_found`), and `respond` scripts answers (errors, `ratelimited`, slow answers).
 */
export class FakeSlackApi extends LoopbackServer {
  readonly calls: ApiCall[] = [];
  readonly messages: StoredMessage[] = [];
  tokens = new Set<string>(['xoxb-test-0000-token']);
  channels = new Set<string>(['C0TESTCHAN']);
  respond: (call: ApiCall, index: number) => ApiScript = () => normal;
  private counter = 0;

  /** `http://127.0.0.1:PORT/api/` */
  get url(): string {
    return `${this.origin}/api/`;
  }

  reset(): void {
    this.calls.length = 0;
    this.messages.length = 0;
    this.respond = () => normal;
    this.tokens = new Set(['xoxb-test-0000-token']);
    this.channels = new Set(['C0TESTCHAN']);
  }

  /** Top-level messages of a channel (parents and messages without a thread), oldest first. */
  parents(channel = 'C0TESTCHAN'): StoredMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === undefined);
  }

  replies(threadTs: string): StoredMessage[] {
    return this.messages.filter((m) => m.thread_ts === threadTs);
  }

  /** Messages carrying this webhook-id in their metadata. */
  withWebhookId(webhookId: string): StoredMessage[] {
    return this.messages.filter((m) => m.metadata?.event_payload.webhook_id === webhookId);
  }

  /** Calls per method. */
  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const contentType = req.headers['content-type'];
    let args: Record<string, unknown> = {};
    if (contentType?.startsWith('application/json')) {
      try {
        args = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        args = {};
      }
    } else {
      for (const [name, value] of new URLSearchParams(raw)) {
        try {
          args[name] = name === 'metadata' || name === 'blocks' || name === 'attachments' ? JSON.parse(value) : value;
        } catch {
          args[name] = value;
        }
      }
    }
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const call: ApiCall = { method, authorization: req.headers.authorization, contentType, args };
    const index = this.calls.length;
    this.calls.push(call);
    const script = this.respond(call, index);
    if (script.kind === 'answer') {
      res.writeHead(script.status, { 'content-type': 'application/json', ...script.headers });
      res.end(typeof script.body === 'string' ? script.body : JSON.stringify(script.body));
      return;
    }
    if (script.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const answer = this.perform(call);
    if (script.kind === 'record-then-reset') {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    if (script.kind === 'record-then-slow') {
      const timer = setTimeout(send, script.delayMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    send();
  }

  private nextTs(): string {
    this.counter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.counter).padStart(6, '0')}`;
  }

  private perform(call: ApiCall): Record<string, unknown> {
    const token = call.authorization?.startsWith('Bearer ') ? call.authorization.slice(7) : undefined;
    if (token === undefined) return { ok: false, error: 'not_authed' };
    if (!this.tokens.has(token)) return { ok: false, error: 'invalid_auth' };
    const args = call.args;
    const channel = typeof args.channel === 'string' ? args.channel : '';
    if (!this.channels.has(channel)) return { ok: false, error: 'channel_not_found' };
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
    const view = (m: StoredMessage) => {
      const rest = omit(m, 'versions', 'channel', 'metadata');
      return { type: 'message', ...rest, ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) };
    };
    switch (call.method) {
      case 'chat.postMessage': {
        if (typeof args.text !== 'string' && !Array.isArray(args.blocks) && !Array.isArray(args.attachments)) return { ok: false, error: 'no_text' };
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
        if (threadTs !== undefined && !this.messages.some((m) => m.ts === threadTs && m.channel === channel)) return { ok: false, error: 'thread_not_found' };
        const message: StoredMessage = {
          ts: this.nextTs(),
          channel,
          ...(typeof args.text === 'string' ? { text: args.text } : {}),
          ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
          ...(Array.isArray(args.attachments) ? { attachments: args.attachments } : {}),
          ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
          ...(args.reply_broadcast === true || args.reply_broadcast === 'true' ? { reply_broadcast: true } : {}),
          ...(typeof args.metadata === 'object' && args.metadata !== null ? { metadata: args.metadata as StoredMessage['metadata'] } : {}),
          versions: [],
        };
        message.versions.push({ text: message.text, attachments: message.attachments, blocks: message.blocks });
        this.messages.push(message);
        return { ok: true, channel, ts: message.ts, message: view(message) };
      }
      case 'chat.update': {
        const message = this.messages.find((m) => m.channel === channel && m.ts === args.ts);
        if (message === undefined) return { ok: false, error: 'message_not_found' };
        if (typeof args.text === 'string') message.text = args.text;
        if (Array.isArray(args.attachments)) message.attachments = args.attachments;
        if (Array.isArray(args.blocks)) message.blocks = args.blocks;
        message.versions.push({ text: message.text, attachments: message.attachments, blocks: message.blocks });
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case 'chat.delete': {
        const at = this.messages.findIndex((m) => m.channel === channel && m.ts === args.ts);
        if (at < 0) return { ok: false, error: 'message_not_found' };
        this.messages.splice(at, 1);
        return { ok: true, channel, ts: args.ts };
      }
      case 'conversations.history': {
        const oldest = Number(args.oldest ?? 0);
        const found = this.messages.filter((m) => m.channel === channel && (m.thread_ts === undefined || m.reply_broadcast) && Number(m.ts) >= oldest);
        return { ok: true, messages: found.reverse().map(view), has_more: false, response_metadata: { next_cursor: '' } };
      }
      case 'conversations.replies': {
        const parent = this.messages.find((m) => m.channel === channel && m.ts === args.ts);
        if (parent === undefined) return { ok: false, error: 'thread_not_found' };
        const oldest = Number(args.oldest ?? 0);
        const replies = this.messages.filter((m) => m.channel === channel && m.thread_ts === parent.ts && Number(m.ts) >= oldest);
        return { ok: true, messages: [parent, ...replies].map(view), has_more: false, response_metadata: { next_cursor: '' } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** One FakeSlackApi for a describe block, reset before each test. */
export function useFakeSlackApi(): FakeSlackApi {
  const api = new FakeSlackApi();
  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => api.reset());
  return api;
}
