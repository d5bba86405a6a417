/**
 * The benchmark's two per-event harnesses, bundled as `npm run bench` bundles them and run for two
 * short rounds against the bench's stand-ins (the SQS emulator, an HTTP Slack on 127.0.0.1): each
 * measures the real handler and its minimal twin side by side, and every event of both sides
 * reached the stand-ins (queued in SQS, posted to Slack). Nothing about speed is asserted: only
 * that the measurement is there and was of real work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildHarnesses } from '../../scripts/bench/build';
import { loadFixtures } from '../../scripts/bench/fixtures';
import { runHarness } from '../../scripts/bench/processes';
import { startStandIns, type StandIns } from '../../scripts/bench/stand-ins';

const SHORT = { BENCH_ROUNDS: '2', BENCH_WARMUP_ROUNDS: '1', BENCH_REPEATS: '1', BENCH_BLOCKS: '1' };
const fixtures = loadFixtures().length;

let outDir: string;
let harnesses: { receiverHarness: string; transformerHarness: string };
let standIns: StandIns;
beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'bench-harness-test-'));
  harnesses = await buildHarnesses(outDir);
  standIns = await startStandIns();
}, 60_000);
afterAll(async () => {
  await standIns.stop();
  rmSync(outDir, { recursive: true, force: true });
});

interface Rounds {
  usPerEvent: number[];
  minimalUsPerEvent: number[];
  checkUs: number[];
  events: number;
}

const expectTwoRounds = (result: Rounds): void => {
  for (const series of [result.usPerEvent, result.minimalUsPerEvent, result.checkUs]) {
    expect(series).toHaveLength(2);
    for (const value of series) expect(Number.isFinite(value) && value >= 0).toBe(true);
  }
};

test('receiver: the handler and its twin each queue every signed fixture, round by round', async () => {
  const result = await runHarness<Rounds & { queued: number; rejected: number; minimalQueued: number; minimalRejected: number }>(harnesses.receiverHarness, 'receiver', 60_000, { ...SHORT, ...standIns.env });
  expectTwoRounds(result);
  // 2 rounds of one pass over the fixtures.
  expect(result).toMatchObject({ events: 2 * fixtures, queued: 2 * fixtures, rejected: 0, minimalQueued: 2 * fixtures, minimalRejected: 0 });
}, 60_000);

test('transformer: the handler and its twin each post every record to the Slack stand-in, round by round', async () => {
  const result = await runHarness<Rounds & { posted: number; failedItems: number; minimalPosted: number; minimalFailedItems: number }>(harnesses.transformerHarness, 'transformer', 60_000, { ...SHORT, ...standIns.env });
  expectTwoRounds(result);
  // 2 rounds of one block: 10 batches of 5.
  expect(result).toMatchObject({ events: 100, posted: 100, failedItems: 0, minimalPosted: 100, minimalFailedItems: 0 });
}, 60_000);
