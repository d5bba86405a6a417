/** Constructor validation: every problem at once, naming the bad value and the fix; tokens skipped. */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import type { DodoSlackNotifierProps } from '../../lib/props';
import { Transformation } from '../../lib/transformation';
import { testApp } from './helpers';

function construct(props: DodoSlackNotifierProps | ((stack: Stack) => DodoSlackNotifierProps)): () => void {
  return () => {
    const stack = new Stack(testApp(), 'S');
    new DodoSlackNotifier(stack, 'Notifier', typeof props === 'function' ? props(stack) : props);
  };
}
const secret = (stack: Stack, name: string) => secretsmanager.Secret.fromSecretNameV2(stack, name, name);

test.each<[string, DodoSlackNotifierProps, RegExp]>([
  ['an event glob has a space', { events: ['payment succeeded'] }, /events: event glob "payment succeeded" may only contain/],
  ['an event glob is empty', { events: [''] }, /events: an event glob must not be empty/],
  ['events is empty', { events: [] }, /events must list at least one event glob; use \['\*'\]/],
  ['maxReceiveCount is 0', { maxReceiveCount: 0 }, /maxReceiveCount must be a whole number 1\.\.1000, got 0/],
  ['maxReceiveCount is 1001', { maxReceiveCount: 1001 }, /got 1001/],
  ['maxReceiveCount is fractional', { maxReceiveCount: 2.5 }, /got 2\.5/],
  ['timestampTolerance is 0', { timestampTolerance: Duration.seconds(0) }, /timestampTolerance must be between 1 second and 1 hour, got 0 seconds/],
  ['timestampTolerance is not whole seconds', { timestampTolerance: Duration.millis(1500) }, /timestampTolerance must be whole seconds/],
  ['secretCacheTtl is over an hour', { secretCacheTtl: Duration.hours(2) }, /secretCacheTtl must be between 1 second and 1 hour, got 2 hours/],
  ['secretCacheTtl is 0', { secretCacheTtl: Duration.seconds(0) }, /secretCacheTtl must be between 1 second and 1 hour, got 0 seconds/],
  ['deduplicationWindow is under an hour', { deduplicationWindow: Duration.minutes(5) }, /deduplicationWindow must be between 1 hour and 365 days/],
  ['slackTimeout is over 10 s', { slackTimeout: Duration.seconds(30) }, /slackTimeout must be between 1 second and 10 seconds, got 30 seconds/],
  ['rollupAfter is over a day', { rollupAfter: Duration.hours(25) }, /rollupAfter must be between 0 seconds and 1 day, got 1 day 1 hour/],
  ['rollupNeverFold has a bad glob', { rollupNeverFold: ['refund succeeded'] }, /rollupNeverFold: event glob "refund succeeded" may only contain/],
  ['deliveryRatePerSecond is 0', { deliveryRatePerSecond: 0 }, /deliveryRatePerSecond must be more than 0 and at most 1000, got 0/],
  ['deliveryRatePerSecond is NaN', { deliveryRatePerSecond: NaN }, /deliveryRatePerSecond .* got NaN/],
  ['throttlingRateLimit is negative', { throttlingRateLimit: -1 }, /throttlingRateLimit must be more than 0 requests per second, got -1/],
  ['throttlingRateLimit is 0', { throttlingRateLimit: 0 }, /throttlingRateLimit must be more than 0 requests per second, got 0/],
  ['throttlingBurstLimit is 0', { throttlingBurstLimit: 0 }, /throttlingBurstLimit must be a whole number of at least 1, got 0/],
  ['throttlingBurstLimit is fractional', { throttlingBurstLimit: 1.5 }, /throttlingBurstLimit must be a whole number of at least 1, got 1\.5/],
  ['transformerMemorySize is below Lambda\'s 128 MB', { transformerMemorySize: 64 }, /transformerMemorySize must be a whole number of MB from 128 to 10240, got 64/],
  ['alarmEmail is not an address', { alarmEmail: 'ops at example' }, /alarmEmail must be an email address like ops@example.com, got "ops at example"/],
])('fails if %s', (_name, props, message) => {
  expect(construct(props)).toThrow(message);
});

test('fails once, listing every problem', () => {
  expect(construct({ maxReceiveCount: 0, deliveryRatePerSecond: -1, events: ['a b'] })).toThrow(
    /invalid props:\n- events: .*\n- maxReceiveCount .*\n- deliveryRatePerSecond/,
  );
});

describe('routes', () => {
  test('fails if a route id is not letters and digits', () => {
    expect(construct((s) => ({ routes: [{ id: 'risk-team', events: ['dispute.*'], slackWebhookSecret: secret(s, 'a') }] }))).toThrow(
      /routes\[0\] \("risk-team"\): id must be 1-64 letters and digits starting with a letter/,
    );
  });

  test('fails if a route uses the reserved id default', () => {
    expect(construct((s) => ({ routes: [{ id: 'Default', events: ['*'], slackWebhookSecret: secret(s, 'a') }] }))).toThrow(
      /id "default" is reserved for the top-level route/,
    );
  });

  test('fails if two routes share an id', () => {
    expect(
      construct((s) => ({
        routes: [
          { id: 'Risk', events: ['dispute.*'], slackWebhookSecret: secret(s, 'a') },
          { id: 'risk', events: ['refund.*'], slackWebhookSecret: secret(s, 'b') },
        ],
      })),
    ).toThrow(/routes\[1\] \("risk"\): duplicate route id/);
  });

  test('fails if a route glob is invalid', () => {
    expect(construct((s) => ({ routes: [{ id: 'Risk', events: ['dispute/*'], slackWebhookSecret: secret(s, 'a') }] }))).toThrow(
      /routes\[0\] \("Risk"\) events: event glob "dispute\/\*"/,
    );
  });

  test('fails if routes is empty and there is no default route', () => {
    expect(construct({ routes: [] })).toThrow(/routes is empty and slackWebhookSecret is not set/);
  });

  test('fails if default-route props are set without a default route', () => {
    expect(
      construct((s) => ({
        events: ['payment.*'],
        transformation: Transformation.builtin(),
        routes: [{ id: 'Risk', events: ['dispute.*'], slackWebhookSecret: secret(s, 'a') }],
      })),
    ).toThrow(/events applies to the default route[^\n]*\n- transformation applies to the default route/);
  });
});

test('skips tokens', () => {
  expect(
    construct({
      maxReceiveCount: Lazy.number({ produce: () => 5 }),
      deliveryRatePerSecond: Lazy.number({ produce: () => 1 }),
      throttlingRateLimit: Lazy.number({ produce: () => 10 }),
      throttlingBurstLimit: Lazy.number({ produce: () => 20 }),
      alarmEmail: Lazy.string({ produce: () => 'ops@example.com' }),
      timestampTolerance: Duration.seconds(Lazy.number({ produce: () => 60 })),
    }),
  ).not.toThrow();
});

test('accepts the boundaries', () => {
  expect(
    construct({
      maxReceiveCount: 1000,
      timestampTolerance: Duration.hours(1),
      secretCacheTtl: Duration.seconds(1),
      deduplicationWindow: Duration.hours(1),
      slackTimeout: Duration.seconds(1),
      deliveryRatePerSecond: 0.1,
      throttlingRateLimit: 0.5,
      throttlingBurstLimit: 1,
    }),
  ).not.toThrow();
});

describe('event globs that match no known type', () => {
  test('warn at synth, for the default route and for routes, naming the glob and the closest type; the synth still succeeds', () => {
    const stack = new Stack(testApp(), 'S');
    new DodoSlackNotifier(stack, 'Notifier', {
      slackWebhookSecret: secret(stack, 'main'),
      events: ['paymnt.*', 'payment.partially_refunded'],
      routes: [{ id: 'Risk', events: ['dispte.*', 'dispute.*'], slackWebhookSecret: secret(stack, 'risk') }],
    });
    const messages = Annotations.fromStack(stack)
      .findWarning('/S/Notifier', Match.stringLikeRegexp('matches no Dodo event type'))
      .map((warning) => warning.entry.data as string);
    expect(messages).toEqual([
      expect.stringContaining('"paymnt.*" matches no Dodo event type this version knows (closest: "payment.*")'),
      expect.stringContaining('"payment.partially_refunded" matches no Dodo event type this version knows (closest: "payment.'),
      expect.stringContaining('"dispte.*" matches no Dodo event type this version knows (closest: "dispute.*")'),
    ]);
  });

  test('known globs give no warning', () => {
    const stack = new Stack(testApp(), 'S');
    new DodoSlackNotifier(stack, 'Notifier', { events: ['payment.*', 'dispute.opened', 'payout.not_initiated'] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('matches no Dodo event type'))).toEqual([]);
  });
});
