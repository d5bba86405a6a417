/** A misconfigured transformer fails its invocation once, naming every problem (records are retried, nothing is lost). */
import type { Context } from 'aws-lambda';
import { TransformerEnv } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';

test('every configuration problem is named in one error', async () => {
  const handler = createTransformerHandler({
    env: { [TransformerEnv.Routes]: '[]', [TransformerEnv.SlackTimeoutMs]: '0', [TransformerEnv.DeliveryRatePerSecond]: 'fast' },
  });
  const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  await expect(handler({ Records: [] }, context)).rejects.toThrow(
    'transformer configuration: ROUTES must be a non-empty JSON array of routes; QUEUE_URL is not set; DEAD_LETTER_QUEUE_URL is not set; ' +
      'IDEMPOTENCY_TABLE_NAME is not set; SLACK_TIMEOUT_MS must be a positive number, got "0"; DELIVERY_RATE_PER_SECOND must be a positive number, got "fast"',
  );
});
