/**
 * Runs in a fresh Node process per sample (the local stand-in for a Lambda cold start):
 * `node init-probe.js <bundle> receiver|transformer`. Prints one JSON line:
 *   importMs  - require() of the production bundle (module evaluation included),
 *   initMs    - importMs plus creating the handler with its clients and wiring
 *               (receiver: createReceiverHandler over the environment, as the first request does;
 *                transformer: the exported handler wires itself on its first invocation, so an
 *                empty SQS batch is invoked: wiring happens, no record is touched, no network),
 *   cpuMs     - CPU time over the same span.
 * Timed inside the process with performance.now(), so Node's own start-up is not counted.
 */
import { performance } from 'node:perf_hooks';

interface ReceiverModule {
  createReceiverHandler(config: unknown): unknown;
  receiverConfigFromEnv(env: NodeJS.ProcessEnv): unknown;
}
interface TransformerModule {
  handler(event: { Records: [] }, context: unknown): Promise<{ batchItemFailures: unknown[] }>;
}

async function main(): Promise<void> {
  const [bundle, kind] = process.argv.slice(2);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle under test, at a path known only at run time, loaded as the Lambda runtime loads it
  const loaded: unknown = require(bundle);
  const imported = performance.now();
  if (kind === 'receiver') {
    const receiver = loaded as ReceiverModule;
    if (typeof receiver.createReceiverHandler(receiver.receiverConfigFromEnv(process.env)) !== 'function') throw new Error('no receiver handler');
  } else {
    const context = { functionName: 'dodo-slack-transformer', awsRequestId: 'init-probe', getRemainingTimeInMillis: () => 60_000 };
    const answer = await (loaded as TransformerModule).handler({ Records: [] }, context);
    if (answer.batchItemFailures.length !== 0) throw new Error('empty batch reported failures');
  }
  const done = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`${JSON.stringify({ importMs: imported - started, initMs: done - started, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`init probe failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
