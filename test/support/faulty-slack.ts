import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackServer, readBody } from './loopback-server';

/** What the stand-in does with one post. */
export type Fault = 'ok' | '500' | '503' | 'reset' | 'slow' | '429';

/** Shares of each fault; the rest is `ok`. */
const SHARES: readonly (readonly [Exclude<Fault, 'ok'>, number])[] = [
  ['500', 0.1],
  ['503', 0.1],
  ['reset', 0.1],
  ['429', 0.04],
  ['slow', 0.02],
];

/**
 * The answer to the `attempt`-th post of `key` (1 = first), fixed by the seed: the same whatever
 * order posts arrive in or how fast the machine is, so which faults a run meets is decided before
 * it starts and a failure reproduces.
 */
export function faultOf(seed: string, key: string, attempt: number): Fault {
  const roll = createHash('sha256').update(`${seed}|${key}|${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
  let edge = 0;
  for (const [fault, share] of SHARES) {
    edge += share;
    if (roll < edge) return fault;
  }
  return 'ok';
}

export interface FaultySlackOptions {
  readonly seed: string;
  /** The event a post is about (e.g. its payment id in the message), or undefined when it names none. */
  readonly keyOf: (body: string) => string | undefined;
  /** How long a `slow` answer is held: more than the client's timeout, so it gives up first. */
  readonly slowMs: number;
  /** Called when the n-th post (1 = first) arrives, before it is answered; that post is then held until release(). */
  readonly holdAt?: { readonly request: number; readonly onHeld: () => void };
}

/**
 * A Slack incoming-webhook stand-in on 127.0.0.1 that answers each post by {@link faultOf}: 200
 * `ok`, 500, 503, a connection reset, an answer later than the client waits, or 429 with
 * `Retry-After: 1`. A post counts as delivered when its 200 was written to a live connection:
 * what Slack would have posted and the client heard about.
 */
export class FaultySlack extends LoopbackServer {
  /** Posts per key, in arrival order, and what each got. */
  readonly attempts = new Map<string, Fault[]>();
  readonly delivered: string[] = [];
  readonly unrecognised: string[] = [];
  requests = 0;
  private heldRelease: (() => void) | undefined;

  constructor(private readonly options: FaultySlackOptions) {
    super();
  }

  url(): string {
    return `${this.origin}/services/T000/B000/faulty-slack-secret-token`;
  }

  /** Drops the held post (its client is gone): it is not delivered. */
  release(): void {
    this.heldRelease?.();
    this.heldRelease = undefined;
  }

  /** How many posts met each fault. */
  tally(): Record<Fault, number> {
    const tally: Record<Fault, number> = { ok: 0, '500': 0, '503': 0, reset: 0, slow: 0, '429': 0 };
    for (const faults of this.attempts.values()) for (const fault of faults) tally[fault] += 1;
    return tally;
  }

  private answerOk(res: ServerResponse, key: string): void {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok', () => this.delivered.push(key));
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    this.requests += 1;
    if (this.options.holdAt?.request === this.requests) {
      await new Promise<void>((resolve) => {
        this.heldRelease = resolve;
        this.options.holdAt!.onHeld();
      });
      req.socket.destroy();
      return;
    }
    const key = this.options.keyOf(body);
    if (key === undefined) {
      this.unrecognised.push(body.slice(0, 200));
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const faults = this.attempts.get(key) ?? [];
    this.attempts.set(key, faults);
    const fault = faultOf(this.options.seed, key, faults.length + 1);
    faults.push(fault);
    switch (fault) {
      case 'ok':
        this.answerOk(res, key);
        return;
      case '500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('rollup_error');
        return;
      case '503':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('service_unavailable');
        return;
      case '429':
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' }).end('rate_limited');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'slow': {
        // Had the client waited this long, the post would be delivered after all.
        const timer = setTimeout(() => this.answerOk(res, key), this.options.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
    }
  }
}
