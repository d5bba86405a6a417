/**
 * Routing rules through the CLI, end to end: `dodo-slack routes` says which routes of a
 * configuration file take each event, and `dodo-slack serve --config` (signed webhooks in over HTTP,
 * three Slack stand-ins on 127.0.0.1 out, one per route) delivers each event to exactly those routes,
 * once each, across a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { postSignedWebhook } from '../support/signed-post';
import { buildCli, cleanEnv, FakeSlack, runCli, startServe, type BuiltCli, type ServeHandle } from './cli-harness';
import { eventIndexOf, EXPECTED_ROUTES, ROUTE_IDS, ROUTING_CONFIG, routingEvents, type RoutingEvent } from '../support/routing-story';

jest.setTimeout(120_000);

const LIVE_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TEST_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
/** Dodo's live and test dashboards pointed at one serve: both keys, the test one labelled. */
const SIGNING_SECRET = `live:${LIVE_SECRET} test:${TEST_SECRET}`;
const keyOf = (event: RoutingEvent) => (event.mode === 'test' ? TEST_SECRET : LIVE_SECRET);

let cli: BuiltCli;
let scratch: string;
let configFile: string;
const slacks = new Map<string, FakeSlack>();
const urls = new Map<string, string>();
let serve: ServeHandle | undefined;

beforeAll(async () => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-config-'));
  configFile = path.join(scratch, 'dodo-slack.config.json');
  writeFileSync(configFile, JSON.stringify(ROUTING_CONFIG, null, 2));
  for (const id of ROUTE_IDS) {
    const slack = new FakeSlack();
    slacks.set(id, slack);
    urls.set(id, await slack.start());
  }
});
afterEach(async () => {
  await serve?.process.stop('SIGKILL');
  serve = undefined;
});
afterAll(async () => {
  await Promise.all([...slacks.values()].map((slack) => slack.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

function routeEnv(): NodeJS.ProcessEnv {
  return cleanEnv({
    DODO_WEBHOOK_SECRET: SIGNING_SECRET,
    SLACK_SALES_URL: urls.get('Sales')!,
    SLACK_EUROPE_URL: urls.get('Europe')!,
    SLACK_RISK_URL: urls.get('Risk')!,
  });
}

function send(url: string, event: RoutingEvent, secret: string): Promise<number> {
  return postSignedWebhook(url, { webhookId: `msg_routing_${event.index}`, body: event.body, secret });
}

async function explain(event: RoutingEvent): Promise<{ routes: string[]; notTaken: { id: string; reason: string }[] }> {
  const payload = path.join(scratch, `event-${event.index}.json`);
  writeFileSync(payload, event.body);
  const result = await runCli(cli.entry, ['routes', payload, '--config', configFile, '--mode', event.mode]);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as { routes: string[]; notTaken: { id: string; reason: string }[] };
}

/** Event index → the routes whose stand-in was posted a message about it (with repeats, if any). */
function delivered(): Map<number, string[]> {
  const byEvent = new Map<number, string[]>();
  for (const [id, slack] of slacks) {
    for (const requestMade of slack.requests) {
      const index = eventIndexOf(requestMade.body, 100);
      if (index === undefined) throw new Error(`a message to ${id} names no event: ${requestMade.body.slice(0, 200)}`);
      byEvent.set(index, [...(byEvent.get(index) ?? []), id]);
    }
  }
  return byEvent;
}

test('`dodo-slack routes` names the routes that take each event, in file order, and why the others do not', async () => {
  const events = routingEvents(['live', 'test']);
  const explained = await Promise.all(events.map(explain));
  expect(explained.map((answer) => answer.routes)).toEqual(events.map((event) => EXPECTED_ROUTES[event.index]));
  expect(explained[0].notTaken).toEqual([
    { id: 'Sales', reason: expect.stringMatching(/data\.total_amount/) as unknown },
    { id: 'Europe', reason: expect.stringMatching(/filter/) as unknown },
    { id: 'Risk', reason: expect.stringMatching(/events .* do not include payment\.succeeded/) as unknown },
  ]);
});

test('serve --config delivers each event to exactly the routes `routes` names, once each, also across a restart; test-mode events marked', async () => {
  const events = routingEvents(['live', 'test']);
  const dataDir = path.join(scratch, 'serve-data');
  serve = await startServe(cli.entry, ['--config', configFile, '--data-dir', dataDir, '--rate', '50', '--rollup-after', 'off'], routeEnv());
  const firstHalf = events.slice(0, 6);
  expect(await Promise.all(firstHalf.map((event) => send(serve!.url, event, keyOf(event))))).toEqual(firstHalf.map(() => 200));
  const expectedPosts = (list: readonly RoutingEvent[]) => list.reduce((sum, event) => sum + EXPECTED_ROUTES[event.index].length, 0);
  await Promise.all(ROUTE_IDS.map((id) => slacks.get(id)!.received(firstHalf.filter((event) => EXPECTED_ROUTES[event.index].includes(id)).length)));

  // A restart on the same data dir: nothing is delivered again, the rest arrives as usual.
  await serve.process.stop('SIGTERM');
  serve = await startServe(cli.entry, ['--config', configFile, '--data-dir', dataDir, '--rate', '50', '--rollup-after', 'off'], routeEnv());
  // Dodo resends one event it already delivered: the webhook-id is deduplicated per route.
  expect(await send(serve.url, events[2], LIVE_SECRET)).toBe(200);
  expect(await Promise.all(events.slice(6).map((event) => send(serve!.url, event, keyOf(event))))).toEqual(events.slice(6).map(() => 200));
  await Promise.all(ROUTE_IDS.map((id) => slacks.get(id)!.received(events.filter((event) => EXPECTED_ROUTES[event.index].includes(id)).length)));
  await serve.process.stop('SIGTERM');

  const byEvent = delivered();
  const explained = await Promise.all(events.map(explain));
  for (const event of events) expect({ event: event.index, routes: (byEvent.get(event.index) ?? []).sort() }).toEqual({ event: event.index, routes: [...explained[event.index].routes].sort() });
  expect([...slacks.values()].reduce((sum, slack) => sum + slack.requests.length, 0)).toBe(expectedPosts(events));

  // The mention rule: the sales group is mentioned on the 2,500 EUR payment only.
  const salesTexts = slacks.get('Sales')!.requests.map((posted) => ({ index: eventIndexOf(posted.body, 100), text: (JSON.parse(posted.body) as { text: string }).text }));
  expect(salesTexts.filter((posted) => posted.text.includes('<!subteam^S0SALES01>')).map((posted) => posted.index)).toEqual([2]);
  // Test mode: the one test event a route takes (Europe) is marked; no live one is.
  const marked = [...slacks.values()].flatMap((slack) => slack.requests).filter((posted) => (JSON.parse(posted.body) as { text: string }).text.includes('[TEST]'));
  expect(marked.map((posted) => eventIndexOf(posted.body, 100))).toEqual(events.filter((event) => event.mode === 'test' && EXPECTED_ROUTES[event.index].length > 0).map((event) => event.index));
  // Every message of the other routes has no mention.
  for (const id of ['Europe', 'Risk']) expect(slacks.get(id)!.requests.some((posted) => posted.body.includes('subteam'))).toBe(false);
});

test('a configuration with a fault stops serve and `routes` with exit 2, naming the JSON path; an unset variable names the route', async () => {
  const bad = path.join(scratch, 'bad.json');
  writeFileSync(bad, JSON.stringify({ routes: [ROUTING_CONFIG.routes[0], { ...ROUTING_CONFIG.routes[1], filter: { 'data.currency': { $oneOf: ['EUR'] } } }] }));
  const routes = await runCli(cli.entry, ['routes', 'payment.succeeded', '--config', bad]);
  expect(routes.code).toBe(2);
  expect(routes.stderr).toContain('routes[1].filter');
  expect(routes.stdout).toBe('');
  const serveRun = await runCli(cli.entry, ['serve', '--port', '0', '--config', bad, '--data-dir', path.join(scratch, 'bad-data')], { env: routeEnv() });
  expect(serveRun.code).toBe(2);
  expect(serveRun.stderr).toContain('routes[1].filter');

  const unset = await runCli(cli.entry, ['serve', '--port', '0', '--config', configFile, '--data-dir', path.join(scratch, 'unset-data')], { env: cleanEnv({ DODO_WEBHOOK_SECRET: LIVE_SECRET, SLACK_SALES_URL: urls.get('Sales')! }) });
  expect(unset.code).toBe(1);
  expect(unset.stderr).toMatch(/routes\[1\] \("Europe"\): the environment variable SLACK_EUROPE_URL is not set/);
  expect(unset.stderr).toMatch(/routes\[2\] \("Risk"\): the environment variable SLACK_RISK_URL is not set/);

  const mixed = await runCli(cli.entry, ['serve', '--port', '0', '--config', configFile, '--events', 'payment.*'], { env: routeEnv() });
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toContain('--events applies without --config');
});
