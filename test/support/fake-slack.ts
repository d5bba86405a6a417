import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer, readBody } from './loopback-server';

/** What the fake Slack does with one request. */
export type SlackScript =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string; readonly headers?: Record<string, string> }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'reset' };

export const ok: SlackScript = { kind: 'answer', status: 200, body: 'ok' };
export const answer = (status: number, body: string, headers?: Record<string, string>): SlackScript => ({ kind: 'answer', status, body, ...(headers ? { headers } : {}) });

export interface ReceivedRequest {
  readonly path: string;
  readonly body: string;
  readonly json: { text?: string } & Record<string, unknown>;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhooks. Each request is
 * answered by `respond(request)` (default: 200 ok); every request is recorded.
 */
export class FakeSlack extends LoopbackServer {
  readonly requests: ReceivedRequest[] = [];
  respond: (request: ReceivedRequest, index: number) => SlackScript = () => ok;

  /** Base URL, e.g. http://127.0.0.1:34567 ; use `url('/services/T/B/X')` for a webhook URL. */
  url(path = '/services/T000/B000/secret-token'): string {
    return `${this.origin}${path}`;
  }

  /** Successful deliveries per path. */
  delivered(path?: string): ReceivedRequest[] {
    return this.requests.filter((r) => (path === undefined || r.path === path) && (r as ReceivedRequest & { answered?: number }).answered === 200);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    let json: ReceivedRequest['json'] = {};
    try {
      json = JSON.parse(body) as ReceivedRequest['json'];
    } catch {
      // recorded as-is
    }
    const request: ReceivedRequest & { answered?: number } = { path: req.url ?? '', body, json };
    const index = this.requests.length;
    this.requests.push(request);
    const script = this.respond(request, index);
    switch (script.kind) {
      case 'answer':
        request.answered = script.status;
        res.writeHead(script.status, { 'content-type': 'text/plain', ...script.headers });
        res.end(script.body);
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          if (!res.destroyed) res.end('ok');
        }, script.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
    }
  }
}

/**
 * One FakeSlack for a describe block: started before its tests, stopped after them, and reset
 * (no recorded requests, answering 200 ok) before each test.
 */
export function useFakeSlack(): FakeSlack {
  const slack = new FakeSlack();
  beforeAll(() => slack.start());
  afterAll(() => slack.stop());
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
  });
  return slack;
}
