import { SQSClient } from '@aws-sdk/client-sqs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** fauxqs (the SQS emulator) running in a child process, and an SDK client pointed at it. */
export interface Fauxqs {
  readonly sqs: SQSClient;
  /** The emulator's endpoint, e.g. http://127.0.0.1:PORT. */
  readonly address: string;
  /** The emulator's process (the benchmark's watchdog stops what it started). */
  readonly process: ChildProcess;
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
    address,
    process: emulator,
    stop: () => {
      emulator.kill('SIGTERM');
      sqs.destroy();
    },
  };
}
