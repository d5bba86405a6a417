import { serveAlertOptions } from '../../lambda/local/alerts';

test('serve --alert-thresholds tunes the rules --alerts turns on, and names what is wrong', () => {
  expect(serveAlertOptions({ alerts: true, 'alert-thresholds': 'failures.minFailures=10,disputes.ratio=0.01' })).toEqual({
    settings: { silence: {}, failures: { minFailures: 10 }, refunds: {}, disputes: { ratio: 0.01 } },
  });
  expect(serveAlertOptions({ alerts: true, 'alerts-off': 'refunds', 'alert-thresholds': 'refunds.minRefunds=3' })).toBe('--alert-thresholds: refunds.minRefunds applies to the refunds rule, which is off');
  expect(serveAlertOptions({ 'alert-thresholds': 'failures.minFailures=10' })).toBe('--alerts-off, --alert-interval and --alert-thresholds apply with --alerts (or --silence-after)');
  expect(serveAlertOptions({ alerts: true, 'alert-thresholds': 'failures.minFailures=ten' })).toBe('--alert-thresholds: failures.minFailures must be a positive whole number, got "ten"');
});
