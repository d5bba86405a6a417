/**
 * The integration test's committed snapshot is what test/integ/integ.notifier.ts synthesizes now
 * (with the app's cdk.json context, as `scripts/integ.sh` deploys it). A change to the construct
 * or to the integration test that is not reflected in the snapshot fails here, offline; review the
 * diff, then regenerate with `UPDATE_INTEG_SNAPSHOT=1 npx jest test/integ` and commit it.
 * Asset hashes and the assertions' time salt are masked (as integ-runner does by default): handler code changes are covered by
 * the unit and e2e tests, and would otherwise make every code change a snapshot change.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { testOutdir } from '../lib/helpers';
import { buildIntegApp } from './integ.notifier';

const SNAPSHOT_DIR = path.join(__dirname, 'integ.notifier.snapshot');
const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/** Every template of the integration test app, asset hashes masked, by file name. */
function synthesizedTemplates(): Record<string, string> {
  const app = new App({ outdir: testOutdir(), context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  buildIntegApp(app);
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((stack) => [
      path.basename(stack.templateFullPath),
      `${JSON.stringify(stack.template, null, 1)
        .replace(/\b[a-f0-9]{64}\b/g, '<asset-hash>')
        // The API deployment's logical id hashes the receiver's code asset in, to redeploy on a code change.
        .replace(/(ApiDeployment[0-9A-F]{8})[a-f0-9]{32}\b/g, '$1<asset-hash>')
        // Each synth salts the assertions with the time, so a redeploy runs them again.
        .replace(/"salt": "\d+"/g, '"salt": "<time>"')}\n`,
    ]),
  );
}

function committedTemplates(): Record<string, string> {
  if (!fs.existsSync(SNAPSHOT_DIR)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(SNAPSHOT_DIR)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => [file, fs.readFileSync(path.join(SNAPSHOT_DIR, file), 'utf8')]),
  );
}

const current = synthesizedTemplates();

if (process.env.UPDATE_INTEG_SNAPSHOT === '1') {
  fs.rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
  fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
  for (const [file, text] of Object.entries(current)) fs.writeFileSync(path.join(SNAPSHOT_DIR, file), text);
}

test('the committed snapshot has the stack under test and the assertion stack', () => {
  expect(Object.keys(committedTemplates()).sort()).toEqual(Object.keys(current).sort());
  expect(Object.keys(current)).toContain('DodoSlackNotifierInteg.template.json');
  expect(Object.keys(current).some((file) => /DeployAssert/.test(file))).toBe(true);
});

test.each(Object.keys(current))('%s is what integ.notifier.ts synthesizes (else: UPDATE_INTEG_SNAPSHOT=1 npx jest test/integ)', (file) => {
  expect(committedTemplates()[file]).toBe(current[file]);
});

test('the assertions cover one delivery, a forged 401 and a 404 dead letter with its reason', () => {
  const assertions = JSON.parse(Object.entries(current).find(([file]) => /DeployAssert/.test(file))![1]) as {
    Resources: Record<string, { Properties?: { expected?: string } }>;
  };
  const expected = Object.values(assertions.Resources)
    .map((resource) => resource.Properties?.expected)
    .filter((value): value is string => typeof value === 'string')
    .map((value): unknown => JSON.parse(value));
  expect(expected).toEqual([
    { $ObjectLike: { Payload: '200' } },
    { $ObjectLike: { Payload: '401' } },
    { $ObjectLike: { Payload: '200' } },
    { $ObjectLike: { Count: 1 } },
    {
      $ObjectLike: {
        Messages: {
          $ArrayWith: [
            {
              $ObjectLike: {
                MessageAttributes: {
                  $ObjectLike: {
                    'dead-letter-route': { $ObjectLike: { StringValue: 'Gone' } },
                    'dead-letter-last-slack-response': { $ObjectLike: { StringValue: { $StringLike: '^404' } } },
                  },
                },
              },
            },
          ],
        },
      },
    },
  ]);
});

test('no signing key or Slack token is in the snapshot (the key is made on the account at test time)', () => {
  const all = Object.values(current).join('');
  expect(all).not.toMatch(/whsec_[A-Za-z0-9+/]{8,}/);
  expect(all).not.toContain('hooks.slack.com');
});
