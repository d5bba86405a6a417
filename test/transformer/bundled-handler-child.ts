/**
 * Child process of bundled-handler.e2e.test.ts: loads a synthesized transformer bundle the way the
 * Lambda runtime does (a plain `require` in a fresh Node process, outside jest's module sandbox)
 * and runs one SQS batch through its exported createTransformerHandler. SQS calls are recorded and
 * idempotency records kept in memory; Slack and Secrets Manager are reached over HTTP.
 *
 * argv: <bundle index.js> <input JSON { env, records }> <output JSON path>
 */
import * as fs from 'node:fs';
import type { Context, SQSRecord } from 'aws-lambda';
import { MemoryPersistenceLayer } from '../support/memory-persistence';

type BundledHandlerModule = typeof import('../../lambda/transformer/handler');

async function main(): Promise<void> {
  const [bundlePath, inputPath, outputPath] = process.argv.slice(2) as [string, string, string];
  const { env, records } = JSON.parse(fs.readFileSync(inputPath, 'utf8')) as { env: Record<string, string>; records: SQSRecord[] };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle at a path known only at run time, loaded as the Lambda runtime loads it
  const bundled = require(bundlePath) as BundledHandlerModule;
  const sqsCalls: { name: string; input: unknown }[] = [];
  const sqs = {
    send: (command: { constructor: { name: string }; input: unknown }) => {
      sqsCalls.push({ name: command.constructor.name, input: command.input });
      return Promise.resolve({});
    },
  };
  const handler = bundled.createTransformerHandler({
    env,
    sqs: sqs as never,
    persistenceStore: new MemoryPersistenceLayer(),
    allowInsecureLocalhostSlack: true,
  });
  const deadline = Date.now() + 60_000;
  const context = {
    functionName: 'transformer',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:transformer',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/transformer',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
  const response = await handler({ Records: records }, context);
  fs.writeFileSync(outputPath, JSON.stringify({ response, sqsCalls }));
}

main().catch((error: unknown) => {
  process.stderr.write(`child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
