/**
 * What names cost once they are cached: the same payment.succeeded messages (three products)
 * through the pipeline's processor and its real Slack client, posting to a Slack stand-in on
 * 127.0.0.1 in this process (deduplication in memory, the pacing's clock always a second on), once
 * without the names port and once with it on a warm cache, rounds alternated. The ratio (CPU per
 * message with ÷ without, median of the rounds) is what the cache must keep close to 1: a warm
 * look-up is a few map reads, never a request.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createPipeline } from '../../lambda/transformer/pipeline';
import { createDodoNameLookup, MemoryNameCache } from '../../lambda/shared/dodo-names';
import { noMetrics, silentLogger, type NameLookup } from '../../lambda/shared/ports';
import type { DeliveryRecord } from '../../lambda/transformer/delivery';
import { FIXTURES_DIR, median } from './fixtures';

export interface NamesMeasurement {
  /** µs per message (CPU-bound, never waiting) without the names port / with it on a warm cache. */
  readonly withoutUs: number;
  readonly withUs: number;
  /** Per-round ratios (with ÷ without). */
  readonly ratios: number[];
}

const PRODUCTS = ['pdt_R8AWMPiV8RyJElcCKvAID', 'pdt_Starter0001', 'pdt_Addon00002'];

function records(count: number, round: number, side: string): DeliveryRecord[] {
  const envelope = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };
  envelope.data = { ...envelope.data, product_cart: PRODUCTS.map((product_id) => ({ product_id, quantity: 1 })) };
  const body = JSON.stringify(envelope);
  return Array.from({ length: count }, (_unused, i) => ({
    id: `${side}-${round}-${i}`,
    receiveCount: 1,
    webhook: { webhookId: `msg_${side}_${round}_${i}`, webhookTimestamp: '1773480413', eventType: 'payment.succeeded', body },
  }));
}

/** The Slack stand-in: 200 `ok`; the first message of the named side must show the names. */
async function startSlack(): Promise<{ readonly url: (side: string) => string; readonly named: () => boolean; readonly stop: () => Promise<void> }> {
  let named: boolean | undefined;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (named === undefined && request.url?.endsWith('/with') === true) named = Buffer.concat(chunks).toString('utf8').includes('Product 0 (');
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (side) => `http://127.0.0.1:${port}/services/T000/B000/${side}`,
    named: () => named === true,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function processor(slackUrl: string, names: NameLookup | undefined) {
  let clock = 0;
  const pipeline = createPipeline(
    [{ id: 'default', events: ['*'], slackSecretId: 'SLACK_URL', transformation: { kind: 'builtin', options: {} } }],
    {
      runOnce: async (_key, fn) => ({ value: await fn(), duplicate: false }),
      secrets: { load: () => Promise.resolve(slackUrl), minRefreshIntervalMs: 0 },
      ...(names === undefined ? {} : { names }),
      logger: silentLogger,
      metrics: noMetrics,
      // The pacing never waits: each reading of the clock is a second later.
      now: () => (clock += 1000),
    },
    { maxReceiveCount: 10, allowInsecureLocalhostSlack: true },
  );
  return pipeline.processor;
}

function warmNames(): NameLookup {
  const cache = new MemoryNameCache();
  PRODUCTS.forEach((id, i) => cache.set(`live:product:${id}`, `Product ${i}`, Number.MAX_SAFE_INTEGER));
  return createDodoNameLookup({ apiKey: { get: () => Promise.reject(new Error('a warm cache never asks')) }, cache, logger: silentLogger, metrics: noMetrics });
}

/** CPU µs per message (this process's: the pipeline, its HTTP client and the stand-in alike). */
async function cpuUsPerMessage(run: (batch: DeliveryRecord[]) => Promise<unknown>, batch: DeliveryRecord[]): Promise<number> {
  const started = process.cpuUsage();
  await run(batch);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / batch.length;
}

export async function measureNames(rounds = 21, perRound = 300): Promise<NamesMeasurement> {
  const slack = await startSlack();
  try {
    return await measure(slack, rounds, perRound);
  } finally {
    await slack.stop();
  }
}

async function measure(slack: Awaited<ReturnType<typeof startSlack>>, rounds: number, perRound: number): Promise<NamesMeasurement> {
  const without = processor(slack.url('without'), undefined);
  const withNames = processor(slack.url('with'), warmNames());
  const run = (p: ReturnType<typeof processor>) => async (batch: DeliveryRecord[]) => {
    const outcomes = await p.processBatch(batch);
    for (const outcome of outcomes.values()) if (outcome.kind !== 'done') throw new Error(`a bench message was not delivered: ${JSON.stringify(outcome)}`);
  };
  // Warm-up: JIT both paths before measuring.
  await run(without)(records(perRound, -1, 'a'));
  await run(withNames)(records(perRound, -1, 'b'));
  // Like with like: the named side's messages show the names.
  if (!slack.named()) throw new Error('the messages of the named side do not show the names');
  const ratios: number[] = [];
  const withoutUs: number[] = [];
  const withUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which side goes first, so neither always runs on a warmer heap.
    const first = round % 2 === 0;
    const a = first ? await cpuUsPerMessage(run(without), records(perRound, round, 'a')) : undefined;
    const b = await cpuUsPerMessage(run(withNames), records(perRound, round, 'b'));
    const c = a ?? (await cpuUsPerMessage(run(without), records(perRound, round, 'a')));
    withoutUs.push(c);
    withUs.push(b);
    ratios.push(b / c);
  }
  return { withoutUs: median(withoutUs), withUs: median(withUs), ratios };
}

