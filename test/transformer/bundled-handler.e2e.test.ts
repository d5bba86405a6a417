/**
 * A fromInline route end to end through the transformer exactly as `cdk synth` builds it, both ways
 * the construct can: from this repository it bundles lambda/transformer/handler.ts with esbuild and
 * the `__DODO_SLACK_USER_CODE__` define; from the published package it takes the transformer
 * `npm run build` prebundled (scripts/prebundle-handlers.js, no define) and puts the user code
 * beside it as dodo-slack-user-code.json. Either bundle, loaded in a fresh Node process as the
 * Lambda runtime loads it, must find the code by the route's codeId in ROUTES, run it in its worker
 * and post the result. A throwing event is dead-lettered with the reason, and the next one is delivered.
 *
 * Outside the bundle only the edges are stood in: Slack and Secrets Manager are real HTTP servers
 * on 127.0.0.1 (the bundled SDK reaches the latter through AWS_ENDPOINT_URL_SECRETS_MANAGER), SQS
 * calls are recorded and idempotency records kept in memory (bundled-handler-child.ts).
 */
import * as esbuild from 'esbuild';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv } from '../../lambda/shared/function-env';
import { esbuildOptionsFor } from '../../lib/bundling';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { Transformation } from '../../lib/transformation';
import { FakeSlack } from '../support/fake-slack';
import { fixtureBody } from '../support/transformation';

jest.setTimeout(120_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-sales-AbCdEf';
const SLACK_PATH = '/services/T1/B1/bundled-route-token';

const slack = new FakeSlack();
let secretsServer: Server;
let outdir: string;
let childPath: string;
/** The transformer asset (its index.js) and environment, by how the construct built it. */
const synthesized: Record<string, { bundlePath: string; environment: Record<string, string>; assetFiles: string[] }> = {};

const SALES_CODE = `function handler(webhook) {
  if (webhook.eventType === 'payment.failed') throw new Error('no template for failures');
  webhook.payload = { text: 'bundled sale ' + webhook.payload.data.payment_id + ' via ' + webhook.url };
  return webhook;
}`;

/** Synthesizes one notifier with a fromInline route; where its transformer asset is. */
function synthTransformer(Notifier: typeof DodoSlackNotifier, Transform: typeof Transformation, dir: string) {
  const app = new App({ outdir: dir });
  const stack = new Stack(app, 'Bundled');
  const notifier = new Notifier(stack, 'Notifier', {
    routes: [
      {
        id: 'Sales',
        events: ['payment.*'],
        slackWebhookSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'SalesSlack', SLACK_SECRET_ARN),
        transformation: Transform.fromInline(SALES_CODE),
      },
    ],
  });
  const assembly = app.synth();
  // The parts of the template read here: the function's asset key and its environment.
  const template = assembly.getStackByName('Bundled').template as {
    Resources: Record<string, { Properties: { Code: { S3Key: string }; Environment: { Variables: Record<string, string> } } }>;
  };
  const fn = template.Resources[stack.getLogicalId(notifier.transformerFunction.node.defaultChild as never)];
  const assetDir = path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  return {
    bundlePath: path.join(assetDir, 'index.js'),
    environment: fn.Properties.Environment.Variables,
    assetFiles: fs.readdirSync(assetDir).sort(),
  };
}

beforeAll(async () => {
  await slack.start();
  // Secrets Manager's JSON protocol: every call is a POST whose X-Amz-Target names the operation.
  secretsServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: SecretId, Name: 'slack-sales', SecretString: slack.url(SLACK_PATH), VersionId: 'v1' }));
    });
  });
  await new Promise<void>((resolve) => secretsServer.listen(0, '127.0.0.1', resolve));

  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-transformer-bundle-'));
  synthesized['bundled at synth from the sources'] = synthTransformer(DodoSlackNotifier, Transformation, path.join(outdir, 'cdk.out'));

  // What `npm run build` puts in the package, and the construct as it runs from there.
  const prebundledDir = path.join(outdir, 'dist', 'handlers');
  for (const name of ['receiver', 'transformer']) {
    const entry = path.join(__dirname, '..', '..', 'lambda', name, 'handler.ts');
    esbuild.buildSync({ ...esbuildOptionsFor(entry, path.join(prebundledDir, name, 'index.js')), logLevel: 'silent' });
  }
  jest.isolateModules(() => {
    jest.doMock('../../lib/lambda-entry', () => ({
      ...jest.requireActual<typeof import('../../lib/lambda-entry')>('../../lib/lambda-entry'),
      locatePrebundledHandler: (name: string) => path.join(prebundledDir, name),
    }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy inside isolateModules, loaded after the mock above
    const { DodoSlackNotifier: Prebundled } = require('../../lib/dodo-slack-notifier') as typeof import('../../lib/dodo-slack-notifier');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy inside isolateModules, loaded after the mock above
    const { Transformation: PrebundledTransformation } = require('../../lib/transformation') as typeof import('../../lib/transformation');
    synthesized['prebundled by npm run build'] = synthTransformer(Prebundled, PrebundledTransformation, path.join(outdir, 'cdk.prebundled.out'));
  });

  childPath = path.join(outdir, 'child.js');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'bundled-handler-child.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: childPath, logLevel: 'silent',
  });
});

afterAll(async () => {
  await slack.stop();
  await new Promise<void>((resolve) => secretsServer.close(() => resolve()));
  fs.rmSync(outdir, { recursive: true, force: true });
});

function record(id: string, eventType: string): SQSRecord {
  const attribute = (stringValue: string) => ({ dataType: 'String', stringValue, stringListValues: [], binaryListValues: [] });
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: fixtureBody(eventType),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {
      [MessageAttribute.WebhookId]: attribute(`msg_${id}`),
      [MessageAttribute.WebhookTimestamp]: attribute(String(Math.floor(Date.now() / 1000))),
      [MessageAttribute.EventType]: attribute(eventType),
    },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:queue',
    awsRegion: 'us-east-1',
  };
}

/** Runs one batch through the bundle in a fresh Node process; resolves with its answer and SQS calls. */
async function runBundle(bundlePath: string, environment: Record<string, string>, records: SQSRecord[]): Promise<{ response: SQSBatchResponse; sqsCalls: { name: string; input: Record<string, unknown> }[]; logs: string }> {
  const inputPath = path.join(outdir, 'input.json');
  const outputPath = path.join(outdir, 'output.json');
  const env = { ...environment, [TransformerEnv.QueueUrl]: 'https://sqs.test/queue', [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.test/dlq' };
  fs.writeFileSync(inputPath, JSON.stringify({ env, records }));
  const logs = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [childPath, bundlePath, inputPath, outputPath],
      {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsServer.address() as AddressInfo).port}`,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}\n${stdout}`)) : resolve(`${stdout}${stderr}`)),
    );
  });
  return { ...(JSON.parse(fs.readFileSync(outputPath, 'utf8')) as { response: SQSBatchResponse; sqsCalls: { name: string; input: Record<string, unknown> }[] }), logs };
}

test('the prebundled asset is the package\'s bundle with the user code beside it; the synth-time one embeds it', () => {
  expect(synthesized['prebundled by npm run build'].assetFiles).toEqual(['dodo-slack-user-code.json', 'index.js']);
  const userCode = JSON.parse(fs.readFileSync(path.join(path.dirname(synthesized['prebundled by npm run build'].bundlePath), 'dodo-slack-user-code.json'), 'utf8')) as Record<string, string>;
  expect(Object.values(userCode)).toEqual([`${SALES_CODE}\n//# sourceURL=inline-transformation.js\n`]);
  expect(fs.readFileSync(synthesized['prebundled by npm run build'].bundlePath, 'utf8')).not.toContain('bundled sale');
  expect(synthesized['bundled at synth from the sources'].assetFiles).toEqual(['index.js']);
  expect(fs.readFileSync(synthesized['bundled at synth from the sources'].bundlePath, 'utf8')).toContain('bundled sale');
});

test.each(['bundled at synth from the sources', 'prebundled by npm run build'])(
  'the transformer %s runs the fromInline code by codeId: a throw is dead-lettered, the next event is posted',
  async (how) => {
    slack.requests.length = 0;
    const { bundlePath, environment } = synthesized[how];
    const routes = JSON.parse(environment[TransformerEnv.Routes]) as { id: string; transformation: { kind: string; codeId?: string } }[];
    expect(routes).toEqual([expect.objectContaining({ id: 'Sales', transformation: expect.objectContaining({ kind: 'code' }) as unknown })]);

    const { response, sqsCalls, logs } = await runBundle(bundlePath, environment, [record('failed', 'payment.failed'), record('paid', 'payment.succeeded')]);

    expect({ failures: response.batchItemFailures, logs: response.batchItemFailures.length > 0 ? logs : '' }).toEqual({ failures: [], logs: '' });
    expect(slack.delivered(SLACK_PATH).map((request) => request.json)).toEqual([
      { text: 'bundled sale pay_gr4RizvMOXFJ6xca3y2tU via https://hooks.slack.com/services/REDACTED' },
    ]);
    expect(sqsCalls).toHaveLength(1);
    expect(sqsCalls[0].input).toMatchObject({ QueueUrl: 'https://sqs.test/dlq', MessageBody: fixtureBody('payment.failed') });
    expect(JSON.stringify(sqsCalls[0].input.MessageAttributes)).toContain(
      'transformation inline-transformation.js threw on payment.failed: no template for failures (at inline-transformation.js:2)',
    );
    // The Slack URL never reaches the logs.
    expect(logs).not.toContain('bundled-route-token');
  },
);
