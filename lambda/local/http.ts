/**
 * `serve`'s HTTP side: POST /webhooks/dodo goes to the receiver (the same answer table as API
 * Gateway + the receiver Lambda); anything else is a 404 or 405. Slow clients are cut off instead
 * of held for Node's defaults: headers within 10 s, the whole request (headers and a body of at
 * most 200 KiB) within 20 s, an idle keep-alive connection closed after 5 s. Dodo itself answers
 * within its 15 s timeout or retries.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES, WEBHOOK_PATH } from '../shared/webhook';
import { normaliseHeaders } from '../receiver/headers';
import type { ReceiverRequest, ReceiverResponse } from '../receiver/webhook-receiver';
import { clock, printable, RECEIVER_OUTCOME_TEXT } from './progress';

const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface WebhookHttpServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  readonly receive: (request: ReceiverRequest) => Promise<ReceiverResponse>;
  /** Progress lines (stdout). */
  readonly print: (text: string) => void;
  /** Problems (stderr). */
  readonly printError: (text: string) => void;
}

export interface WebhookHttpServer {
  /** `http://HOST:PORT/webhooks/dodo`, with the real port when 0 was asked for. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting; requests being read may finish until `deadline` (epoch ms), then every connection is cut. */
  close(deadline: number): Promise<void>;
}

/** Starts listening; rejects with the listen error (EADDRINUSE, EACCES, …). */
export async function startWebhookHttpServer(options: WebhookHttpServerOptions): Promise<WebhookHttpServer> {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = Date.now();
    const pathname = (request.url ?? '/').split('?')[0];
    if (pathname !== WEBHOOK_PATH) {
      sendJson(response, 404, JSON.stringify({ error: `not found; Dodo posts to ${WEBHOOK_PATH}` }));
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, JSON.stringify({ error: 'method not allowed; use POST' }), { allow: 'POST' });
      return;
    }
    const body = await readBody(request);
    // The same normalisation as the Lambda adapter: a header sent twice reads as one space-separated list.
    const headers = normaliseHeaders(request.headersDistinct);
    const answer = await options.receive({ headers, body });
    sendJson(response, answer.statusCode, answer.body);

    const webhookId = printable(headers['webhook-id'] || '-');
    let eventType = '-';
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { type?: unknown };
      if (typeof parsed.type === 'string') eventType = printable(parsed.type);
    } catch {
      // Not JSON: the receiver has said so in its answer.
    }
    const detail = answer.statusCode >= 400 ? `: ${(JSON.parse(answer.body) as { error?: string }).error ?? ''}` : '';
    options.print(`${clock()} ${webhookId} ${eventType} ← ${answer.statusCode} ${RECEIVER_OUTCOME_TEXT[answer.outcome]}${detail} (${Date.now() - started} ms)\n`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.printError(`${clock()} error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (!response.headersSent) sendJson(response, 500, JSON.stringify({ error: 'internal error' }));
      else response.end();
    });
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  return {
    url: `http://${host}:${port}${WEBHOOK_PATH}`,
    port,
    async close(deadline) {
      server.close();
      server.closeIdleConnections();
      let cutTimer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (cutTimer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(cutTimer);
      server.closeAllConnections();
    },
  };
}

/** Reads the body, keeping at most MAX_BODY_BYTES + 1 bytes: enough for the receiver to answer 413. */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    request.on('data', (chunk: Buffer) => {
      if (kept > MAX_BODY_BYTES) return;
      const room = MAX_BODY_BYTES + 1 - kept;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(piece);
      kept += piece.length;
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: string, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(statusCode, { 'content-type': 'application/json', ...extraHeaders });
  response.end(body);
}
