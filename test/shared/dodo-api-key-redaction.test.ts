/**
 * The Dodo API key never leaves the request that carries it: a stand-in API that echoes the
 * Authorization header in its error bodies (401, 400, 500) and in a slow answer's body cannot get it
 * into a log line (verbose serve too), a message posted to Slack, the store's files or a dead letter,
 * while the message still goes out with its IDs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startLocalServer } from '../../lambda/local/server';
import { createDodoNameLookup } from '../../lambda/shared/dodo-names';
import type { CoreLogger } from '../../lambda/shared/ports';
import { noMetrics } from '../../lambda/shared/ports';
import { fixtureBody } from '../support/delivery';
import { useFakeSlack } from '../support/fake-slack';
import { testServerOptions } from '../support/local-server';

const ECHOES: readonly (readonly [string, number])[] = [
  ['401 echoing the key', 401],
  ['400 echoing the key', 400],
  ['500 echoing the key', 500],
];

let server: Server;
let apiUrl: string;
let status: number;
beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ code: 'ERR', message: `bad request with ${request.headers.authorization} at ${request.url}`, authorization: request.headers.authorization }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const newKey = () => `dodo_sk_${randomBytes(16).toString('hex')}`;

test.each(ECHOES)('%s: the look-up answers without names, and no log line has the key', async (_name, answer) => {
  status = answer;
  const key = newKey();
  const lines: string[] = [];
  const logger: CoreLogger = { debug: (m, e) => lines.push(m + JSON.stringify(e)), info: (m, e) => lines.push(m + JSON.stringify(e)), warn: (m, e) => lines.push(m + JSON.stringify(e)), error: (m, e) => lines.push(m + JSON.stringify(e)) };
  const names = createDodoNameLookup({ apiKey: { get: () => Promise.resolve(key) }, apiUrl, logger, metrics: noMetrics });
  const found = await names.find({ productIds: ['pdt_A'], paymentIds: ['pay_B'] }, 'live');
  expect(found).toEqual({});
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.join('\n')).not.toContain(key);
  expect(JSON.stringify(found)).not.toContain(key);
});

describe('dodo-slack serve with a key the API echoes', () => {
  const slack = useFakeSlack();
  let workDir: string;
  beforeEach(() => (workDir = mkdtempSync(join(tmpdir(), 'dodo-key-redaction-'))));
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? filesUnder(full) : [full];
    });
  }

  test('progress and log lines, the posted message and the data dir never hold the key; the message goes out with IDs', async () => {
    status = 401;
    const key = newKey();
    const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const output: string[] = [];
    const local = await startLocalServer(testServerOptions(signingSecret, workDir, output, { slackWebhookUrl: slack.url('/services/T1/B1/redaction'), verbose: true, dodoApiKey: key, dodoApiUrl: apiUrl }));
    try {
      const body = fixtureBody('payment.succeeded');
      const id = 'msg_key_redaction_1';
      const timestamp = new Date();
      const signature = new Webhook(signingSecret).sign(id, timestamp, body);
      const code = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(local.url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end(body);
      });
      expect(code).toBe(200);
      await local.idle();
    } finally {
      await local.close();
    }
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0].body).toContain('pdt_R8AWMPiV8RyJElcCKvAID');
    expect(slack.requests[0].body).not.toContain(key);
    const printed = output.join('');
    expect(printed).toContain('IDs instead of names');
    expect(printed).not.toContain(key);
    const stored = filesUnder(workDir).map((file) => readFileSync(file).toString('latin1'));
    for (const text of stored) expect(text.includes(key)).toBe(false);
  });
});
