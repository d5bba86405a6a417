import { DEFAULT_ALERT_SETTINGS, evaluateAlerts, silenceThresholdMs, withAlertThresholds, type AlertEpisode, type AlertInputs } from '../../lambda/alerts/rules';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const inputs = (overrides: Partial<AlertInputs> = {}): AlertInputs => ({
  nowMs: NOW,
  lastHour: {},
  hourBaseline: {},
  lastDay: {},
  dayBaseline: {},
  dayBaselineDays: 28,
  month: {},
  monthName: '2026-12',
  ...overrides,
});
const failures = { failures: {} } as const;

describe('payment failures', () => {
  it('with no history, opens above the absolute rate and names the top error codes', () => {
    const [decision] = evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 26, 'pay.n|EUR': 4, 'failreason|card_declined': 14, 'failreason|insufficient_funds': 6 } }), []);
    expect(decision.action).toBe('open');
    const text = (decision as { message: { text: string } }).message.text;
    expect(text).toMatch(/^Alert: payment failures: 20 of 50 payments failed in the last hour \(40 %\)/);
    expect(text).toContain('card_declined ×14, insufficient_funds ×6');
  });

  it('says the usual rate of that hour when the earlier weeks have one', () => {
    const [decision] = evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 26, 'failreason|x': 14 }, hourBaseline: { 'pay.n|USD': 96, 'failreason|x': 4 } }), []);
    expect((decision as { message: { text: string } }).message.text).toContain('14 of 40 payments failed in the last hour (35 %); usually 4 % at this hour');
  });

  it('stays quiet under the minimum count or under the usual rate × factor', () => {
    expect(evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 50, 'failreason|x': 1 } }), [])).toEqual([]);
    expect(evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 2, 'failreason|x': 4 } }), [])).toEqual([]);
    // Usually 30 %: 45 % is not twice that.
    expect(evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 11, 'failreason|x': 9 }, hourBaseline: { 'pay.n|USD': 70, 'failreason|x': 30 } }), [])).toEqual([]);
  });

  it('keeps an open episode while it holds and resolves it once it clears', () => {
    const episode: AlertEpisode = { rule: 'failures', id: 'failures_1', openedAtMs: NOW - 60_000 };
    expect(evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 30, 'failreason|x': 20 } }), [episode])).toEqual([{ action: 'keep', episode }]);
    const [resolved] = evaluateAlerts(failures, inputs({ lastHour: { 'pay.n|USD': 30 } }), [episode]);
    expect(resolved.action).toBe('resolve');
    expect((resolved as { message: { text: string } }).message.text).toMatch(/^Resolved: payment failures/);
  });

  it('a rule switched off resolves its open episode and opens nothing', () => {
    const episode: AlertEpisode = { rule: 'failures', id: 'failures_1', openedAtMs: NOW };
    expect(evaluateAlerts({ failures: false }, inputs({ lastHour: { 'pay.n|USD': 30, 'failreason|x': 20 } }), [episode])[0].action).toBe('resolve');
    expect(evaluateAlerts({ failures: false }, inputs({ lastHour: { 'pay.n|USD': 30, 'failreason|x': 20 } }), [])).toEqual([]);
  });
});

describe('silence', () => {
  it('says nothing before the first webhook', () => {
    expect(evaluateAlerts({ silence: { afterSeconds: 60 } }, inputs(), [])).toEqual([]);
  });

  it('opens after the fixed threshold and resolves when a webhook arrives after the one it was about', () => {
    const [opened] = evaluateAlerts({ silence: { afterSeconds: 60 } }, inputs({ lastAcceptedMs: NOW - 61_000 }), []);
    expect(opened.action).toBe('open');
    expect((opened as { message: { text: string } }).message.text).toMatch(/^Alert: no webhooks for 1 min/);
    const episode = opened.episode;
    expect(evaluateAlerts({ silence: { afterSeconds: 60 } }, inputs({ nowMs: NOW + 600_000, lastAcceptedMs: NOW - 61_000 }), [episode])).toEqual([{ action: 'keep', episode }]);
    const [resolved] = evaluateAlerts({ silence: { afterSeconds: 60 } }, inputs({ nowMs: NOW + 600_000, lastAcceptedMs: NOW + 500_000 }), [episode]);
    expect(resolved.action).toBe('resolve');
    expect((resolved as { message: { text: string } }).message.text).toMatch(/^Resolved: webhooks arrive again/);
  });

  it('learns its threshold from the longest gap, never under the floor', () => {
    expect(silenceThresholdMs({}, undefined)).toBe(6 * 3_600_000);
    expect(silenceThresholdMs({}, 10 * 3_600_000)).toBe(15 * 3_600_000);
    expect(silenceThresholdMs({ floorSeconds: 60 }, 60_000)).toBe(90_000);
    expect(silenceThresholdMs({ afterSeconds: 5 }, 10 * 3_600_000)).toBe(5000);
  });
});

describe('refunds', () => {
  it('opens when the day is well above the usual day, by count or amount', () => {
    const [decision] = evaluateAlerts({ refunds: {} }, inputs({ lastDay: { 'refund.n|USD': 6, 'refund.amount|USD': 60_000 }, dayBaseline: { 'refund.n|USD': 28, 'refund.amount|USD': 280_000 } }), []);
    expect((decision as { message: { text: string } }).message.text).toBe('Alert: refunds spiking: 6 refunds in the last day; usually 1.0 a day; $600.00 refunded; usually $100.00 a day.');
    expect(evaluateAlerts({ refunds: {} }, inputs({ lastDay: { 'refund.n|USD': 6, 'refund.amount|USD': 6000 }, dayBaseline: { 'refund.n|USD': 140, 'refund.amount|USD': 280_000 } }), [])).toEqual([]);
  });
});

describe('dispute ratio', () => {
  it('opens at the ratio with the counts behind it, and a new month resolves the episode', () => {
    const [decision] = evaluateAlerts({ disputes: {} }, inputs({ month: { 'pay.n|USD': 100, 'dispute.opened.n|USD': 1 } }), []);
    expect((decision as { message: { text: string } }).message.text).toMatch(/^Alert: dispute ratio 1 % for 2026-12: 1 dispute\(s\) opened against 100 successful payment\(s\)/);
    expect(evaluateAlerts({ disputes: {} }, inputs({ month: { 'pay.n|USD': 200, 'dispute.opened.n|USD': 1 } }), [])).toEqual([]);
    const [resolved] = evaluateAlerts({ disputes: {} }, inputs({ monthName: '2027-01', month: {} }), [decision.episode]);
    expect(resolved.action).toBe('resolve');
  });
});

describe('thresholds from text (serve --alert-thresholds, -c alertThresholds)', () => {
  test('each threshold of a rule that is on is laid over its settings', () => {
    expect(withAlertThresholds(DEFAULT_ALERT_SETTINGS, 'failures.minFailures=10, disputes.ratio=0.01,silence.floorSeconds=3600')).toEqual({
      silence: { floorSeconds: 3600 },
      failures: { minFailures: 10 },
      refunds: {},
      disputes: { ratio: 0.01 },
    });
  });

  test.each([
    ['failures.minFailures', '"failures.minFailures" is not rule.threshold=value (e.g. failures.minFailures=10)'],
    ['chargebacks.ratio=1', '"chargebacks" is not a rule (rules: silence, failures, refunds, disputes)'],
    ['failures.ratio=1', 'failures has no threshold "ratio" (it has minFailures, absoluteRate, factor, margin)'],
    ['failures.minFailures=2.5', 'failures.minFailures must be a positive whole number, got "2.5"'],
    ['disputes.ratio=-1', 'disputes.ratio must be a positive number, got "-1"'],
    ['refunds.factor=2', 'refunds.factor applies to the refunds rule, which is off'],
  ])('%s is refused: %s', (text, reason) => {
    expect(withAlertThresholds({ ...DEFAULT_ALERT_SETTINGS, refunds: false }, text)).toBe(reason);
  });
});
