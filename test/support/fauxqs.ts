import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** fauxqs (the SQS emulator) running in a child process, and an SDK client pointed at it. */
export interface Fauxqs {
  readonly sqs: SQSClient;
  stop(): void;
}

/**
 * Starts test/transformer/fauxqs-server.mjs (fauxqs is ESM-only, so it runs in its own process) and
 * waits for the address it prints.
 */
export async function startFauxqs(): Promise<Fauxqs> {
  const emulator = spawn(process.execPath, [join(__dirname, '..', 'transformer', 'fauxqs-server.mjs')], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise<string>((resolve, reject) => {
    emulator.stdout.once('data', (data) => resolve(String(data)));
    emulator.once('exit', (code) => reject(new Error(`fauxqs exited with ${code}`)));
  });
  const { address } = JSON.parse(line) as { address: string };
  const sqs = new SQSClient({ endpoint: address, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return {
    sqs,
    stop: () => {
      emulator.kill('SIGTERM');
      sqs.destroy();
    },
  };
}
