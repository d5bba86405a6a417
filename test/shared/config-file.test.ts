import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import { CONFIG_ROUTE_FIELDS, CONFIG_TOP_LEVEL_FIELDS, ConfigFileError, parseNotifierConfig, readNotifierConfig } from '../../lambda/shared/config-file';

const SCHEMA_FILE = path.join(__dirname, '..', '..', 'schema', 'dodo-slack.config.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
const validateWithSchema = new Ajv({ allErrors: true, strict: false }).compile(schema);

const sales = { id: 'Sales', slackWebhookUrlEnv: 'SLACK_SALES_URL' };
const config = (...routes: unknown[]) => ({ routes });

/** Configurations both the parser and the schema accept. */
const VALID: readonly (readonly [string, unknown])[] = [
  ['one route, serve only', config(sales)],
  ['one route, AWS only (secret by name)', config({ id: 'Sales', slackWebhookSecret: 'dodo/slack-sales' })],
  ['one route, both engines, with the $schema key', { $schema: './schema/dodo-slack.config.schema.json', routes: [{ ...sales, slackWebhookSecret: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/slack-AbCdEf' }] }],
  [
    'every field of an incoming-webhook route',
    config({
      ...sales,
      events: ['payment.*', 'refund.succeeded'],
      filter: { 'data.total_amount': { $gte: 50000, $lt: 10000000 }, data: { currency: 'USD' }, $or: [{ 'data.customer.email': { $endsWith: '@example.com' } }, { business_id: { $in: ['bus_1', 'bus_2'] } }], $not: { 'data.status': null } },
      modes: ['live'],
      mentions: [{ mention: 'S0123ABCD', filter: { 'data.total_amount': { $gte: 100000 } } }, { mention: '@here' }],
      transformation: { builtin: { maskCustomerEmails: true, hideCustomerNames: false, dashboardBaseUrl: 'https://app.dodopayments.com', mentions: { 'dispute.*': '<!here>' } } },
    }),
  ],
  ['app mode on both engines', config({ id: 'Threads', slackBotTokenEnv: 'SLACK_BOT_TOKEN', slackBotTokenSecret: 'dodo/slack-bot', slackChannelId: 'C0123456789', replyBroadcast: ['dispute.*'] })],
  ['a Dodo API key for both engines (variable, secret ARN)', { ...config(sales), dodoApiKeyEnv: 'DODO_API_KEY', dodoApiKeySecret: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/api-AbCdEf' }],
  ['a Dodo API key secret by name', { ...config(sales), dodoApiKeySecret: 'dodo/api-key' }],
  ['user code with a time limit', config({ ...sales, transformation: { code: 'transforms/sales.js', timeoutMs: 2000 } })],
  ['an empty filter and $exist, $startsWith, $nin, $neq, $eq with an array', config({ ...sales, filter: {} }, { id: 'Risk', slackWebhookUrlEnv: 'SLACK_RISK_URL', filter: { 'data.customer.customer_id': { $exist: true }, type: { $startsWith: 'dispute.' }, 'data.currency': { $nin: ['INR'], $neq: 'EUR' }, 'data.tags': { $eq: ['a', 'b'] } } })],
];

/** Configurations both refuse; the parser names the fault at `path` (a prefix of a reported path). */
const INVALID: readonly (readonly [string, unknown, string])[] = [
  ['an array instead of an object', [], ''],
  ['no routes', {}, 'routes'],
  ['routes empty', config(), 'routes'],
  ['an unknown top-level key', { ...config(sales), rutes: [] }, 'rutes'],
  ['an unknown route field', config({ ...sales, fliter: {} }), 'routes[0].fliter'],
  ['an id with a dash', config({ ...sales, id: 'big-payments' }), 'routes[0].id'],
  ['the reserved id', config({ ...sales, id: 'Default' }), 'routes[0].id'],
  ['events empty', config({ ...sales, events: [] }), 'routes[0].events'],
  ['a glob with a space', config({ ...sales, events: ['payment succeeded'] }), 'routes[0].events[0]'],
  ['an unknown operator in the second route', config(sales, { id: 'Risk', slackWebhookUrlEnv: 'SLACK_RISK_URL', filter: { 'data.total_amount': { $gtt: 5 } } }), 'routes[1].filter'],
  ['$in not an array', config({ ...sales, filter: { 'data.currency': { $in: 'USD' } } }), 'routes[0].filter'],
  ['$startsWith a number', config({ ...sales, filter: { type: { $startsWith: 5 } } }), 'routes[0].filter'],
  ['$exist a string', config({ ...sales, filter: { 'data.customer': { $exist: 'yes' } } }), 'routes[0].filter'],
  ['$and not an array', config({ ...sales, filter: { $and: { type: 'payment.succeeded' } } }), 'routes[0].filter'],
  ['a filter that is an array', config({ ...sales, filter: [] }), 'routes[0].filter'],
  ['an unknown mode', config({ ...sales, modes: ['prod'] }), 'routes[0].modes[0]'],
  ['modes empty', config({ ...sales, modes: [] }), 'routes[0].modes'],
  ['a mention by name', config({ ...sales, mentions: [{ mention: '@sales-team' }] }), 'routes[0].mentions[0].mention'],
  ['a mention with a bad filter', config({ ...sales, mentions: [{ mention: '@here', filter: { x: { $regex: 'a' } } }] }), 'routes[0].mentions[0].filter'],
  ['a transformation of neither kind', config({ ...sales, transformation: { template: 'x' } }), 'routes[0].transformation'],
  ['an unknown built-in option', config({ ...sales, transformation: { builtin: { colour: 'red' } } }), 'routes[0].transformation.builtin.colour'],
  ['a code time limit of 0', config({ ...sales, transformation: { code: 'a.js', timeoutMs: 0 } }), 'routes[0].transformation.timeoutMs'],
  ['no destination', config({ id: 'Sales' }), 'routes[0]'],
  ['two serve destinations', config({ ...sales, slackBotTokenEnv: 'SLACK_BOT_TOKEN', slackChannelId: 'C0123456789' }), 'routes[0]'],
  ['app mode without a channel', config({ id: 'Threads', slackBotTokenSecret: 'dodo/bot' }), 'routes[0].slackChannelId'],
  ['a channel without app mode', config({ ...sales, slackChannelId: 'C0123456789' }), 'routes[0].slackChannelId'],
  ['webhook on serve, app mode on AWS', config({ ...sales, slackBotTokenSecret: 'dodo/bot', slackChannelId: 'C0123456789' }), 'routes[0]'],
  ['an environment variable name with a dash', config({ id: 'Sales', slackWebhookUrlEnv: 'SLACK-URL' }), 'routes[0].slackWebhookUrlEnv'],
  ['a secret name with a space', config({ id: 'Sales', slackWebhookSecret: 'dodo slack' }), 'routes[0].slackWebhookSecret'],
  ['a Dodo API key variable with a dash', { ...config(sales), dodoApiKeyEnv: 'DODO-KEY' }, 'dodoApiKeyEnv'],
  ['a Dodo API key secret with a space', { ...config(sales), dodoApiKeySecret: 'dodo key' }, 'dodoApiKeySecret'],
  ['a Dodo API key in a route', config({ ...sales, dodoApiKeyEnv: 'DODO_API_KEY' }), 'routes[0].dodoApiKeyEnv'],
];

describe('the configuration file: parser and JSON Schema agree', () => {
  test.each(VALID)('accepted: %s', (_name, value) => {
    expect(() => parseNotifierConfig(JSON.stringify(value), 'dodo-slack.config.json')).not.toThrow();
    expect(validateWithSchema(value)).toBe(true);
  });

  test.each(INVALID)('refused: %s (at %#)', (_name, value, expectedPath) => {
    let error: unknown;
    try {
      parseNotifierConfig(JSON.stringify(value), 'dodo-slack.config.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigFileError);
    const paths = (error as ConfigFileError).problems.map((problem) => problem.path);
    expect(paths.some((reported) => reported === expectedPath || reported.startsWith(`${expectedPath}.`) || reported.startsWith(`${expectedPath}[`))).toBe(true);
    expect((error as ConfigFileError).message).toContain(expectedPath === '' ? 'dodo-slack.config.json' : `${expectedPath}`);
    expect(validateWithSchema(value)).toBe(false);
  });

  test('the schema lists exactly the route fields the parser knows, in the same order', () => {
    const route = (schema.definitions as Record<string, { properties: Record<string, unknown> }>).route;
    expect(Object.keys(route.properties)).toEqual([...CONFIG_ROUTE_FIELDS]);
  });

  test('the schema lists exactly the top-level fields the parser knows', () => {
    expect(Object.keys(schema.properties as Record<string, unknown>)).toEqual([...CONFIG_TOP_LEVEL_FIELDS]);
  });

  test('the Dodo API key fields are read as given', () => {
    const { config: parsed } = parseNotifierConfig(JSON.stringify({ ...config(sales), dodoApiKeyEnv: 'DODO_KEY', dodoApiKeySecret: 'dodo/api-key' }), 'f.json');
    expect(parsed).toMatchObject({ dodoApiKeyEnv: 'DODO_KEY', dodoApiKeySecret: 'dodo/api-key' });
  });

  test('duplicate ids (which JSON Schema cannot express) are refused by the parser, compared case-insensitively', () => {
    expect(() => parseNotifierConfig(JSON.stringify(config(sales, { ...sales, id: 'SALES' })), 'f.json')).toThrow(/routes\[1\]\.id: "SALES" is also the id of routes\[0\]/);
  });
});

describe('reading a configuration file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'dodo-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('every fault at once, each on its own line with its JSON path', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(config({ id: '1st', slackWebhookUrlEnv: 'A' }, { id: 'Risk', slackWebhookUrlEnv: 'B', filter: { 'data.total_amount': { $gtt: 1 } }, modes: ['prod'] })));
    expect(() => readNotifierConfig(file)).toThrow(ConfigFileError);
    const message = (() => {
      try {
        readNotifierConfig(file);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message.split('\n')[0]).toBe(`${file}: invalid configuration:`);
    expect(message).toMatch(/^- routes\[0\]\.id: /m);
    expect(message).toMatch(/^- routes\[1\]\.filter\S*: /m);
    expect(message).toMatch(/^- routes\[1\]\.modes\[0\]: must be "live" or "test", got "prod"$/m);
  });

  test('JSON syntax errors name the line and column', () => {
    const file = path.join(dir, 'syntax.json');
    writeFileSync(file, '{\n  "routes": [\n    {"id": "Sales",}\n  ]\n}\n');
    expect(() => readNotifierConfig(file)).toThrow(/not JSON: .*\(line 3, column \d+\)/);
  });

  test('a file that is not there says so', () => {
    expect(() => readNotifierConfig(path.join(dir, 'missing.json'))).toThrow(/cannot read the file \(ENOENT\)/);
  });

  test('events default to every event; code paths resolve against the file, not the working directory', () => {
    const file = path.join(dir, 'nested', 'dodo-slack.config.json');
    const { config: parsed } = parseNotifierConfig(JSON.stringify(config({ ...sales, transformation: { code: '../transforms/sales.js' } })), file);
    expect(parsed.routes[0].events).toEqual(['*']);
    expect(parsed.routes[0].transformation).toEqual({ code: '../transforms/sales.js', codePath: path.join(dir, 'transforms', 'sales.js') });
  });

  test('a glob no event type matches, and a filter path no event the route takes has, are warnings (Dodo adds types and fields)', () => {
    const { warnings } = parseNotifierConfig(
      JSON.stringify(config({ ...sales, events: ['paymnt.*'] }, { id: 'Risk', slackWebhookUrlEnv: 'R', events: ['payment.succeeded'], filter: { 'data.total_amont': { $gte: 1 } } })),
      'f.json',
    );
    expect(warnings).toEqual([expect.stringMatching(/^routes\[0\]\.events: .*paymnt\.\*/), expect.stringMatching(/^routes\[1\]\.filter: .*data\.total_amont/)]);
  });
});
