/**
 * The cost model's counts come from the calls the pipeline makes, observed on the emulators: a
 * configuration that adds calls (summaries: one more DynamoDB UpdateItem per webhook) moves the
 * counts and the price per webhook by what those calls cost, and nothing else.
 */
import { fixedBill, trickleBill } from '../../scripts/bench/cost/model';
import { runTrickle, startEmulators, type Emulators } from '../../scripts/bench/cost/pipeline';
import { Prices } from '../../scripts/bench/cost/prices';
import { synthesize } from '../../scripts/bench/cost/template';

jest.setTimeout(60_000);

const WEBHOOKS = 4;

describe('cost model', () => {
  let emulators: Emulators;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(async () => {
    await emulators?.stop();
    process.env = savedEnv;
  });

  const count = (calls: readonly { service: string; operation: string }[], operation: string) => calls.filter((call) => `${call.service}.${call.operation}` === operation).length / WEBHOOKS;

  test('summaries add one counted DynamoDB write per webhook, and the price per webhook moves by its write units', async () => {
    const plain = synthesize('default');
    const withSummaries = synthesize('summaries');
    const before = await runTrickle(emulators, plain, WEBHOOKS);
    const after = await runTrickle(emulators, withSummaries, WEBHOOKS);

    // What the pipeline did, per webhook, as seen on the wire.
    expect(count(before.warm.calls, 'sqs.SendMessage')).toBe(1);
    expect(count(before.warm.calls, 'dynamodb.PutItem')).toBe(1);
    expect(count(before.warm.calls, 'dynamodb.UpdateItem')).toBe(1);
    expect(count(after.warm.calls, 'dynamodb.UpdateItem')).toBe(2);
    expect(before.warm.slackRequests).toBe(WEBHOOKS);
    // The caches: secrets are read on the first webhook only.
    expect(count(before.cold.calls, 'secretsmanager.GetSecretValue') * WEBHOOKS).toBe(2);
    expect(count(before.warm.calls, 'secretsmanager.GetSecretValue')).toBe(0);

    const units = (run: typeof before.warm) => run.calls.reduce((sum, call) => sum + call.writeUnits, 0) / WEBHOOKS;
    const extraUnits = units(after.warm) - units(before.warm);
    expect(extraUnits).toBeGreaterThanOrEqual(1);

    const line = (bill: ReturnType<typeof trickleBill>, service: string, item: string) => bill.lines.find((l) => l.service === service && l.item === item)!;
    const metrics = (run: typeof before) => new Set([...run.cold.customMetrics, ...run.warm.customMetrics]).size;
    const plainBill = trickleBill({ notifier: plain, ...before, customMetrics: metrics(before) }, 1_000_000);
    const summariesBill = trickleBill({ notifier: withSummaries, ...after, customMetrics: metrics(after) }, 1_000_000);
    const writes = (bill: typeof plainBill) => line(bill, 'DynamoDB', 'write request units').usd;
    expect(writes(summariesBill) - writes(plainBill)).toBeCloseTo(extraUnits * Prices.dynamodbPerMillionWriteRequestUnits, 6);
    expect(summariesBill.usd).toBeGreaterThan(plainBill.usd);
    // The front door does not move: one REST request per webhook either way.
    expect(line(summariesBill, 'API Gateway', 'REST requests').usd).toBe(line(plainBill, 'API Gateway', 'REST requests').usd);

    // The fixed part reads the template: summaries add two schedules, a table and an alarm.
    const fixed = fixedBill(plain);
    const fixedSummaries = fixedBill(withSummaries);
    expect(withSummaries.schedules).toHaveLength(2);
    expect(fixedSummaries.usd - fixed.usd).toBeCloseTo(Prices.alarmMetricPerMonth + fixedSummaries.lines.filter((l) => /Scheduler|summary runs/.test(`${l.service} ${l.item}`)).reduce((sum, l) => sum + l.usd, 0), 6);

    // The cuts, as the model sees them: a dashboard on request is its 3 USD a month; the transformer's old 512 MB doubles its GB-seconds.
    expect(fixedBill(synthesize('default', { dashboard: true })).usd - fixed.usd).toBeCloseTo(Prices.dashboardPerMonth, 6);
    const larger = trickleBill({ notifier: synthesize('default', { transformerMemorySize: 512 }), ...before, customMetrics: metrics(before) }, 1_000_000);
    const transformerUsd = (bill: typeof plainBill) => bill.lines.filter((l) => l.service === 'Lambda' && l.item.startsWith('transformer')).reduce((sum, l) => sum + l.usd, 0);
    expect(transformerUsd(larger) / transformerUsd(plainBill)).toBeCloseTo(2, 1);
  });
});
