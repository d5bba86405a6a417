/**
 * The functions' telemetry (Powertools Logger and Metrics under middy): an invocation's event is
 * never logged, even where POWERTOOLS_LOGGER_LOG_EVENT asks for it, since events hold whole webhook
 * bodies with customer names and emails.
 */
import { createTelemetry, withTelemetry } from '../../lambda/shared/aws/telemetry';
import { ServiceName } from '../../lambda/shared/metrics';
import { captureOutput } from '../support/capture-output';
import { lambdaContext } from '../support/lambda-context';

test('POWERTOOLS_LOGGER_LOG_EVENT=true does not put the event in the logs', async () => {
  const saved = process.env.POWERTOOLS_LOGGER_LOG_EVENT;
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  const output: string[] = [];
  const restore = captureOutput(output);
  try {
    const telemetry = createTelemetry(ServiceName.Transformer);
    const handler = withTelemetry(telemetry, (event: { body: string }) => {
      telemetry.logger.info('handled', { bytes: event.body.length });
      return Promise.resolve('done');
    });
    expect(await handler({ body: '{"data":{"customer":{"email":"ada@example.com"}}}' }, lambdaContext())).toBe('done');
  } finally {
    restore();
    if (saved === undefined) delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    else process.env.POWERTOOLS_LOGGER_LOG_EVENT = saved;
  }
  const logged = output.join('');
  expect(logged).toContain('"message":"handled"');
  expect(logged).not.toContain('ada@example.com');
  expect(logged).not.toContain('Lambda invocation event');
});
