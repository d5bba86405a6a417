/** The deployable app with a routing configuration file: `cdk synth -c config=FILE`, as bin/app.ts builds it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ReceiverEnv, TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { buildApp } from '../../lib/app-config';
import { DodoSlackNotifierStack } from '../../lib/dodo-slack-notifier-stack';
import { functionEnv, renderCfnString, testApp, unacknowledgedNagFindings } from './helpers';
import { ROUTING_CONFIG } from '../support/routing-story';

const DASHBOARD_CODE = path.join(__dirname, '..', 'fixtures', 'dashboard', 'payment_notifs.js');

let dir: string;
let configFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dodo-synth-config-'));
  configFile = path.join(dir, 'dodo-slack.config.json');
  const withCode = {
    routes: [
      ...ROUTING_CONFIG.routes,
      {
        id: 'Notifs',
        events: ['payment.*'],
        transformation: { code: path.relative(dir, DASHBOARD_CODE), timeoutMs: 2000 },
        slackWebhookSecret: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/notifs-AbCdEf',
      },
    ],
  };
  writeFileSync(configFile, JSON.stringify(withCode));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('cdk synth -c config=FILE', () => {
  const build = () => {
    const app = testApp({ config: configFile });
    const stack = buildApp(app);
    return { app, stack, template: Template.fromStack(stack) };
  };

  test('builds the routes of the file: ids, globs, filters, modes and mentions as written, each with its secret, user code from its path', () => {
    const { template } = build();
    const routes = JSON.parse(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
    expect(routes.map((route) => route.id)).toEqual(['Sales', 'Europe', 'Risk', 'Notifs']);
    for (const written of ROUTING_CONFIG.routes) {
      const built = routes.find((route) => route.id === written.id)!;
      expect(built.events).toEqual(written.events);
      expect(built.filter).toEqual(written.filter);
      expect(built.modes).toEqual('modes' in written ? written.modes : undefined);
      expect(built.mentions).toEqual('mentions' in written ? written.mentions : undefined);
      expect(built.transformation).toEqual({ kind: 'builtin', options: {} });
      // A secret imported by name: its ARN is built from the name (a partial ARN; Secrets Manager resolves it).
      expect(built.slackSecretId).toContain(`:secret:${written.slackWebhookSecret}`);
    }
    expect(routes[3].transformation).toEqual({ kind: 'code', codeId: 'Notifs', timeoutMs: 2000 });
    expect(routes[3].slackSecretId).toBe('arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/notifs-AbCdEf');
    // No default route without a default secret: the file's routes are the channels.
    expect(routes.some((route) => route.id === 'default')).toBe(false);
    // The receiver drops event types no route takes: Europe takes every type.
    expect(JSON.parse(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.EventFilter] as string)).toEqual(['*']);
    expect(Object.keys(template.toJSON().Outputs as object)).toEqual(expect.arrayContaining(['RouteSalesSlackWebhookSecretConsoleUrl', 'RouteNotifsSlackWebhookSecretConsoleUrl']));
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    const { app } = build();
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('the default file name is read from the working directory when -c config is not given', () => {
    const cwd = process.cwd();
    const appDir = path.join(dir, 'app');
    mkdirSync(appDir);
    writeFileSync(path.join(appDir, 'dodo-slack.config.json'), JSON.stringify({ routes: [ROUTING_CONFIG.routes[2]] }));
    try {
      process.chdir(appDir);
      const template = Template.fromStack(buildApp(testApp()));
      const routes = JSON.parse(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
      expect(routes.map((route) => route.id)).toEqual(['Risk']);
    } finally {
      process.chdir(cwd);
    }
  });

  test('a bad file fails the synth naming the JSON path of each fault', () => {
    const bad = writeConfig('bad.json', { routes: [ROUTING_CONFIG.routes[0], { ...ROUTING_CONFIG.routes[1], filter: { 'data.currency': { $gtt: 'EUR' } } }] });
    expect(() => buildApp(testApp({ config: bad }))).toThrow(/bad\.json: invalid configuration:\n- routes\[1\]\.filter\.data\.currency\.\$gtt: /);
    expect(() => buildApp(testApp({ config: path.join(dir, 'missing.json') }))).toThrow(/missing\.json: .*cannot read the file \(ENOENT\)/);
  });

  test('a route that names only an environment variable (serve) fails the synth, naming the route', () => {
    const serveOnly = writeConfig('serve-only.json', { routes: [{ id: 'Local', slackWebhookUrlEnv: 'SLACK_URL' }] });
    expect(() => buildApp(testApp({ config: serveOnly }))).toThrow(/routes\[0\]: route "Local" names no Secrets Manager secret for AWS: add "slackWebhookSecret"/);
  });

  test('warnings (a filter path no event the route takes has) reach the synth output', () => {
    const typo = writeConfig('typo.json', { routes: [{ id: 'Sales', events: ['payment.succeeded'], filter: { 'data.total_amont': { $gte: 1 } }, slackWebhookSecret: 'dodo/slack' }] });
    const stack = buildApp(testApp({ config: typo }));
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('data\\.total_amont'));
  });

  test('summaries (-c summaries=…) go to the first route of the file when there is no default route, as serve --config posts them', () => {
    const template = Template.fromStack(buildApp(testApp({ config: configFile, summaries: 'daily@09:00' })));
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')) as { Properties: { Target: { Input: string } } }[];
    expect(schedules.map((schedule) => (JSON.parse(schedule.Properties.Target.Input) as { routeId: string }).routeId)).toEqual(['Sales']);
  });

  test("the file's dodoApiKeySecret (by name) reaches the transformer, which may read it", () => {
    const withKey = writeConfig('with-key.json', { routes: [ROUTING_CONFIG.routes[2]], dodoApiKeySecret: 'dodo/api-key', dodoApiKeyEnv: 'DODO_API_KEY' });
    const template = Template.fromStack(buildApp(testApp({ config: withKey })));
    expect(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.DodoApiKeySecretArn])).toContain(':secret:dodo/api-key');
  });

  test('the stack prop takes the same file', () => {
    const stack = new DodoSlackNotifierStack(testApp(), 'WithFile', { routesConfigFile: configFile });
    const routes = JSON.parse(renderCfnString(functionEnv(Template.fromStack(stack), 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
    expect(routes.map((route) => route.id)).toEqual(['Sales', 'Europe', 'Risk', 'Notifs']);
  });
});
