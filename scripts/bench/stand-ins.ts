/**
 * The stand-ins the CPU-per-event harnesses send to, in processes of their own so that their CPU is
 * not the harness's: Slack, an HTTP server on 127.0.0.1 in this (the bench's) process that answers
 * every post 200 `ok`; SQS, the fauxqs emulator in a child process, which answers SendMessage as
 * SQS does (message ids, the MD5 digests the SDK checks). The real handler and its minimal twin send
 * to the same stand-ins through the same clients, so the request work both must do (the SDK's
 * serialisation and signing, undici's HTTP) is on both sides of the ratio, as it is in what a user
 * pays for on Lambda.
 */
import dns from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { startFauxqs } from '../../test/support/fauxqs';
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

  const emulator = await startFauxqs();
  liveChildren.add(emulator.process);
  emulator.process.once('exit', () => liveChildren.delete(emulator.process));
  const sqsEndpoint = emulator.address;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  // The emulator names its queues under sqs.<region>.localhost, and the SDK sends to the queue URL's
  // host: a harness resolves that name itself (resolveLocalhostNames), since not every resolver does.
  const queueUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: 'dodo-events' }))).QueueUrl!;
  return {
    slackUrl,
    sqsEndpoint,
    queueUrl,
    env: { AWS_ENDPOINT_URL_SQS: sqsEndpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, BENCH_QUEUE_URL: queueUrl, BENCH_SLACK_URL: slackUrl },
    async stop() {
      emulator.stop();
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
