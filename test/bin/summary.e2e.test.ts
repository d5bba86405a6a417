/**
 * `dodo-slack summary` as users run it, on what `dodo-slack serve --data-dir DIR` accepted: the
 * JSON it prints is the Slack message (as `preview` prints it), amounts formatted as the templates
 * do, each webhook-id counted once however often Dodo re-sends it, in the period of the event's own
 * timestamp in the chosen time zone. And `serve --summary` / `--tz` refuse what they cannot use.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCli, cleanEnv, runCli, startServe, type BuiltCli } from './cli-harness';
import { DAY_MIX, PREVIOUS_DAY } from '../support/summary-events';

jest.setTimeout(60_000);

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let cli: BuiltCli;
let work: string;
let dataDir: string;

beforeAll(async () => {
  cli = buildCli();
  work = mkdtempSync(path.join(tmpdir(), 'dodo-slack-summary-e2e-'));
  dataDir = path.join(work, 'data');
  const serve = await startServe(cli.entry, ['--data-dir', dataDir, '--rate', '1000', '--burst', '100'], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }));
  try {
    const sends = [...DAY_MIX, ...PREVIOUS_DAY, ...DAY_MIX.slice(0, 3)].map(({ id, envelope }) => {
      const file = path.join(work, `${id}.json`);
      writeFileSync(file, JSON.stringify(envelope));
      return () => runCli(cli.entry, ['send', file, '--url', serve.url, '--secret', SECRET, '--webhook-id', id]);
    });
    for (const send of sends) expect((await send()).code).toBe(0);
  } finally {
    expect(await serve.process.stop('SIGTERM')).toBe(0);
  }
});
afterAll(() => {
  // Older harnesses build a transpiled copy to remove; the launcher-based one has nothing to clean up.
  (cli as { cleanup?: () => void }).cleanup?.();
  rmSync(work, { recursive: true, force: true });
});

const summary = (...args: string[]) => runCli(cli.entry, ['summary', '--data-dir', dataDir, ...args]);

test('prints the Slack message of the day as JSON: JPY, KWD, EUR, USD in their minor units, re-sent ids once', async () => {
  const result = await summary('--period', 'day', '--date', '2026-12-01');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const message = JSON.parse(result.stdout) as { text: string; attachments: { blocks: unknown[] }[] };
  expect(message.text).toBe('Daily summary · Tue 1 Dec 2026: 6 payments · net €1,234.56, ¥1,500, KWD 12.345, $29.99');
  expect(result.stdout).toContain('¥1,500 from 2 payments');
  expect(result.stdout).toContain('$29.99 from 1 payment ▲ 50% vs previous day');
  expect(result.stdout).toContain('12 events');
});

test('--tz moves the period: in Berlin the 23:59:59Z payment is the next day; --format text renders it', async () => {
  const berlin = await summary('--date', '2026-12-01', '--tz', 'Europe/Berlin', '--format', 'text');
  expect(berlin.code).toBe(0);
  expect(berlin.stdout).toContain('Daily summary · Tue 1 Dec 2026: 5 payments · net €1,234.56, ¥1,500, KWD 12.345');
  expect(berlin.stdout).toContain('Window 2026-12-01 00:00 – 2026-12-02 00:00 Europe/Berlin (UTC+01:00)');
  const next = JSON.parse((await summary('--date', '2026-12-02', '--tz', 'Europe/Berlin')).stdout) as { text: string };
  expect(next.text).toBe('Daily summary · Wed 2 Dec 2026: 1 payment · net $29.99');
});

test('a week, named by any of its days; an empty period in one line', async () => {
  const week = JSON.parse((await summary('--period', 'week', '--date', '2026-12-03')).stdout) as { text: string };
  expect(week.text).toBe('Weekly summary · week of Mon 30 Nov 2026: 7 payments · net €1,234.56, ¥1,500, KWD 12.345, $49.98');
  const empty = JSON.parse((await summary('--date', '2026-11-01')).stdout) as { text: string };
  expect(empty.text).toBe('Daily summary · Sun 1 Nov 2026: no events in this period.');
});

test('usage errors exit 2 with the reason; a missing store exits 1', async () => {
  const cases: [string[], RegExp][] = [
    [['--period', 'month'], /--period must be day or week, got "month"/],
    [['--tz', 'Mars/Olympus'], /--tz: unknown time zone "Mars\/Olympus"/],
    [['--date', '2026-02-30'], /--date: no such date: 2026-02-30/],
    [['--format', 'xml'], /--format must be json or text/],
  ];
  for (const [args, message] of cases) {
    const result = await summary(...args);
    expect([result.code, result.stderr]).toEqual([2, expect.stringMatching(message)]);
  }
  const missing = await runCli(cli.entry, ['summary', '--data-dir', path.join(work, 'nothing-here'), '--date', '2026-12-01']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no store in');
  const badSchedule = await runCli(cli.entry, ['serve', '--summary', 'hourly', '--data-dir', path.join(work, 'x')], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) });
  expect([badSchedule.code, badSchedule.stderr]).toEqual([2, expect.stringContaining('--summary: a summary schedule is daily@HH:MM or weekly@DAY-HH:MM')]);
  const tzAlone = await runCli(cli.entry, ['serve', '--tz', 'Europe/Berlin', '--data-dir', path.join(work, 'x')], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) });
  expect([tzAlone.code, tzAlone.stderr]).toEqual([2, expect.stringContaining('--tz applies to --summary')]);
  const twoDaily = await runCli(cli.entry, ['serve', '--summary', 'daily@09:00', '--summary', 'daily@18:00', '--data-dir', path.join(work, 'x')], { env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }) });
  expect([twoDaily.code, twoDaily.stderr]).toEqual([2, expect.stringContaining('--summary takes one daily schedule, got daily@09:00 and daily@18:00')]);
});

test('serve --summary announces its next run in the time zone', async () => {
  const serve = await startServe(cli.entry, ['--data-dir', path.join(work, 'scheduled'), '--summary', 'daily@09:00', '--summary', 'weekly@mon-09:00', '--tz', 'Europe/Berlin'], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }));
  try {
    expect(serve.process.stdout).toMatch(/summary daily@09:00: next at \d{4}-\d{2}-\d{2} 09:00 Europe\/Berlin/);
    expect(serve.process.stdout).toMatch(/summary weekly@mon-09:00: next at \d{4}-\d{2}-\d{2} 09:00 Europe\/Berlin/);
  } finally {
    await serve.process.stop('SIGTERM');
  }
});
