/**
 * The stand-ins the CPU-per-event harnesses send to, in processes of their own so that their CPU is
 * not the harness's: Slack, an HTTP server on 127.0.0.1 in this (the bench's) process that answers
 * every post 200 `ok`; SQS, the fauxqs emulator in a child process, which answers SendMessage as
 * SQS does (message ids, the MD5 digests the SDK checks). The real handler and its minimal twin send
 * to the same stand-ins through the same clients, so the request work both must do (the SDK's
 * serialisation and signing, undici's HTTP) is on both sides of the ratio, as it is in what a user
 * pays for on Lambda.
 */
import { spawn } from 'node:child_process';
import dns from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { liveChildren } from './processes';

export interface StandIns {
  /** An incoming-webhook-shaped URL on the Slack stand-in. */
  readonly slackUrl: string;
  /** The SQS endpoint and the queue the receiver sends to. */
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  /** Environment for a harness: the SDK's SQS client goes to the emulator, with test credentials. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

const FAUXQS_SERVER = path.join(__dirname, '..', '..', 'test', 'transformer', 'fauxqs-server.mjs');

export async function startStandIns(): Promise<StandIns> {
  const slack = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('ok');
    });
  });
  slack.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  const slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T00000000/B00000000/bench-stand-in`;

  const emulator = spawn(process.execPath, [FAUXQS_SERVER], { stdio: ['ignore', 'pipe', 'ignore'] });
  liveChildren.add(emulator);
  emulator.once('exit', () => liveChildren.delete(emulator));
  const line = await new Promise<string>((resolve, reject) => {
    emulator.stdout.once('data', (data: Buffer) => resolve(String(data)));
    emulator.once('exit', (code) => reject(new Error(`the SQS emulator exited with ${code}`)));
  });
  const { address: sqsEndpoint } = JSON.parse(line) as { address: string };
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const admin = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials });
  // The emulator names its queues under sqs.<region>.localhost, and the SDK sends to the queue URL's
  // host: a harness resolves that name itself (resolveLocalhostNames), since not every resolver does.
  const queueUrl = (await admin.send(new CreateQueueCommand({ QueueName: 'dodo-events' }))).QueueUrl!;
  admin.destroy();
  return {
    slackUrl,
    sqsEndpoint,
    queueUrl,
    env: { AWS_ENDPOINT_URL_SQS: sqsEndpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, BENCH_QUEUE_URL: queueUrl, BENCH_SLACK_URL: slackUrl },
    async stop() {
      emulator.kill('SIGTERM');
      slack.closeAllConnections();
      await new Promise<void>((resolve) => slack.close(() => resolve()));
    },
  };
}

/**
 * Makes this process resolve every `*.localhost` name to 127.0.0.1 (the SQS emulator's queue
 * URLs), as RFC 6761 says they should; other names resolve as before.
 */
export function resolveLocalhostNames(): void {
  const lookup = dns.lookup;
  const patched = (hostname: string, ...rest: unknown[]): void => {
    (lookup as (...args: unknown[]) => void).call(dns, hostname.endsWith('.localhost') ? '127.0.0.1' : hostname, ...rest);
  };
  (dns as { lookup: unknown }).lookup = patched;
}
