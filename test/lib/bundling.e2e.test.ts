/**
 * The one test that really bundles: both handlers through esbuild (locally, no Docker), as
 * `cdk synth` does. Everything else skips bundling to stay fast.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { Transformation } from '../../lib/transformation';

/** The part of a synthesized template these tests read: each function's asset key. */
type FunctionAssets = { readonly Resources: Record<string, { readonly Properties: { readonly Code: { readonly S3Key: string } } }> };

const handlers = ['receiver', 'transformer'].map((name) => path.resolve(__dirname, '..', '..', 'lambda', name, 'handler.ts'));
const missing = handlers.filter((file) => !fs.existsSync(file));
if (missing.length > 0) {
  // Only while the handlers are being written; by release both exist and this never skips.
  console.warn(`bundling test skipped: handler source missing: ${missing.join(', ')}`);
}
const testIfHandlers = missing.length === 0 ? test : test.skip;

testIfHandlers(
  'both functions bundle with esbuild; user code is embedded in the transformer; the AWS SDK is bundled in',
  () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-bundle-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Bundled');
      const notifier = new DodoSlackNotifier(stack, 'Notifier', {
        routes: [
          {
            id: 'Marker',
            events: ['payment.*'],
            slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Slack', 'slack/marker'),
            transformation: Transformation.fromInline(
              "function handler(webhook) { webhook.payload = { text: 'bundle-marker-7f3a' }; return webhook; }",
            ),
          },
        ],
      });
      const assembly = app.synth();
      const template = assembly.getStackByName('Bundled').template as FunctionAssets;
      const bundleOf = (fn: IConstruct) => {
        const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
        const key: string = template.Resources[logicalId].Properties.Code.S3Key;
        return fs.readFileSync(path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
      };

      const receiver = bundleOf(notifier.receiverFunction);
      const transformer = bundleOf(notifier.transformerFunction);
      for (const bundle of [receiver, transformer]) {
        expect(bundle.length).toBeGreaterThan(1000);
        // CommonJS entry exporting `handler`, as Lambda's index.handler expects.
        expect(bundle).toMatch(/handler/);
        // SDK v3 is bundled (lib/bundling.ts: faster init, tested version), not loaded from the runtime.
        // The one require left is the SDK's own optional, try/catch-guarded CRT signer (SigV4a only).
        const sdkRequires = new Set(bundle.match(/require\("@aws-sdk\/[^"]+"\)/g) ?? []);
        expect([...sdkRequires].filter((r) => r !== 'require("@aws-sdk/signature-v4-crt")')).toEqual([]);
        // Tree-shaken ES module builds: the browser-only user-agent parser is not pulled in.
        expect(bundle).not.toContain('bowser');
        expect(bundle.length).toBeLessThan(3 * 1024 * 1024);
      }
      expect(transformer).toContain('bundle-marker-7f3a');
      expect(receiver).not.toContain('bundle-marker-7f3a');
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  },
  120_000,
);

test('with summaries, the summary function bundles too and its bundle loads and runs as Lambda loads it', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-bundle-summaries-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundled');
    const notifier = new DodoSlackNotifier(stack, 'Notifier', { summaries: { daily: { hour: 9 }, timeZone: 'Europe/Berlin' } });
    const assembly = app.synth();
    const template = assembly.getStackByName('Bundled').template as FunctionAssets;
    const logicalId = stack.getLogicalId(notifier.summaries!.summaryFunction.node.defaultChild as never);
    const key: string = template.Resources[logicalId].Properties.Code.S3Key;
    const bundle = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
    const text = fs.readFileSync(bundle, 'utf8');
    const sdkRequires = new Set(text.match(/require\("@aws-sdk\/[^"]+"\)/g) ?? []);
    expect([...sdkRequires].filter((r) => r !== 'require("@aws-sdk/signature-v4-crt")')).toEqual([]);
    // In a fresh process, as the runtime would: the handler validates the Scheduler input before touching AWS.
    const script = `require(${JSON.stringify(bundle)}).handler({ kind: 'month' }, { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 })
      .then(() => process.exit(3), (error) => { process.stdout.write('rejected: ' + error.message); process.exit(0); });`;
    const output = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, SUMMARY_TABLE_NAME: 'table', QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q', AWS_REGION: 'us-east-1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(output).toContain('rejected: summary event: kind must be "day" or "week", got "month"');
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}, 120_000);
