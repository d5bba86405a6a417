import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import { buildCli, FIXTURES_DIR, inBatches, REPO_ROOT, runCli, type BuiltCli } from './cli-harness';

const fixtures = readdirSync(FIXTURES_DIR).filter((name) => name.endsWith('.json')).sort();

let cli: BuiltCli;
let scratch: string;

beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-preview-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function writeScratch(name: string, content: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, content);
  return file;
}

describe('dodo-slack preview', () => {
  it('has a fixture for each of the 48 event types', () => {
    expect(fixtures).toHaveLength(48);
  });

  it('ships the fixtures as its built-in samples, byte for byte', () => {
    const samples = readdirSync(path.join(REPO_ROOT, 'samples')).filter((name) => name.endsWith('.json')).sort();
    expect(samples).toEqual(fixtures);
    for (const name of fixtures) {
      expect(readFileSync(path.join(REPO_ROOT, 'samples', name), 'utf8')).toBe(readFileSync(path.join(FIXTURES_DIR, name), 'utf8'));
    }
  });

  it('prints a valid Slack message as JSON for every fixture file, and a readable text rendering', async () => {
    const results = await inBatches(
      fixtures.map((name) => async () => {
        const file = path.join(FIXTURES_DIR, name);
        const [json, text] = [await runCli(cli.entry, ['preview', file]), await runCli(cli.entry, ['preview', file, '--format', 'text'])];
        return { name, json, text };
      }),
      4,
    );
    for (const { name, json, text } of results) {
      const type = name.replace(/\.json$/, '');
      expect({ name, code: json.code, stderr: json.stderr }).toEqual({ name, code: 0, stderr: '' });
      const message = JSON.parse(json.stdout) as { text: string };
      expect({ name, problems: validateSlackMessage(message) }).toEqual({ name, problems: [] });

      expect({ name, code: text.code }).toEqual({ name, code: 0 });
      // Readable: no JSON, no mrkdwn entities or link syntax, the event type and the notification text shown.
      expect(text.stdout).not.toMatch(/^\s*[{[]/);
      expect(text.stdout).not.toMatch(/&(amp|lt|gt);|<!date\^|<https?:/);
      expect(text.stdout).toContain(type);
      expect(text.stdout.split('\n')[0]).toBe(message.text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').split('\n')[0]);
    }
    // 96 child processes: ~5 s on an idle 2-core machine, several times that when it is busy.
  }, 120_000);

  it('uses the built-in sample when given an event type, the same as the fixture file', async () => {
    const [byType, byFile] = await Promise.all([
      runCli(cli.entry, ['preview', 'subscription.renewed']),
      runCli(cli.entry, ['preview', path.join(FIXTURES_DIR, 'subscription.renewed.json')]),
    ]);
    expect(byType.code).toBe(0);
    expect(byType.stdout).toBe(byFile.stdout);
  });

  it('renders the legacy payout.not_initiated name from the payout.created sample', async () => {
    const result = await runCli(cli.entry, ['preview', 'payout.not_initiated']);
    expect(result.code).toBe(0);
    expect(validateSlackMessage(JSON.parse(result.stdout))).toEqual([]);
  });

  it('runs a dashboard-style transformation: message on stdout, console output on stderr', async () => {
    const transform = writeScratch(
      'shout.js',
      `function handler(webhook) {
         console.log('saw', webhook.eventType);
         webhook.payload = { text: 'Paid: ' + webhook.payload.data.total_amount + ' by <' + webhook.payload.data.customer.name + '>' };
         return webhook;
       }`,
    );
    const result = await runCli(cli.entry, ['preview', 'payment.succeeded', '--transform', transform]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ text: 'Paid: 2999 by <Ada Lovelace>' });
    expect(result.stderr).toContain('saw payment.succeeded');
  });

  it('bundles a typed TypeScript module like Transformation.fromModule: null cancels, a message is printed', async () => {
    const transform = writeScratch(
      'typed.ts',
      `interface Event { type: string; data: { total_amount?: number } }
       export const transform = (event: Event): { text: string } | null =>
         event.type === 'payment.failed' ? null : { text: \`typed \${event.type}: \${event.data.total_amount ?? 0}\` };`,
    );
    const [message, cancelled] = await Promise.all([
      runCli(cli.entry, ['preview', 'payment.succeeded', '--transform', transform]),
      runCli(cli.entry, ['preview', 'payment.failed', '--transform', transform]),
    ]);
    expect(message.code).toBe(0);
    expect(JSON.parse(message.stdout)).toEqual({ text: 'typed payment.succeeded: 2999' });
    expect(cancelled).toEqual({ code: 0, stdout: '', stderr: expect.stringMatching(/payment\.failed was cancelled/) as unknown });
  });

  it('prints nothing on stdout and says so on stderr when the transformation cancels (exit 0)', async () => {
    const transform = writeScratch('cancel.js', 'function handler(webhook) { webhook.cancel = true; return webhook; }');
    const result = await runCli(cli.entry, ['preview', 'payment.failed', '--transform', transform, '--format', 'text']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: expect.stringMatching(/payment\.failed was cancelled by the transformation/) as unknown });
  });

  it('exits 1 with the reason when the transformation throws', async () => {
    const transform = writeScratch('throws.js', 'function handler(webhook) {\n  throw new Error("no template for " + webhook.eventType);\n}');
    const result = await runCli(cli.entry, ['preview', 'refund.failed', '--transform', transform]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/throws\.js threw on refund\.failed: no template for refund\.failed \(at throws\.js:2\)/);
  });

  it('exits 1 when the transformation returns something Slack would reject', async () => {
    const transform = writeScratch('raw.js', 'function handler(webhook) { return webhook; }');
    const result = await runCli(cli.entry, ['preview', 'dispute.opened', '--transform', transform]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/returned the raw Dodo payload for dispute\.opened/);
  });

  it('exits 1 with file and line when the transformation does not compile', async () => {
    const transform = writeScratch('broken.js', 'function handler(webhook) {\n  return webhook +;\n}');
    const result = await runCli(cli.entry, ['preview', 'payment.succeeded', '--transform', transform]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.js:2: SyntaxError/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('exits 1 for a payload that is not a Dodo webhook', async () => {
    const notJson = writeScratch('not-json.json', '{"type": ');
    const noType = writeScratch('no-type.json', '{"data": {}}');
    const [a, b] = await Promise.all([runCli(cli.entry, ['preview', notJson]), runCli(cli.entry, ['preview', noType])]);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/not-json\.json is not valid JSON/);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/no-type\.json has no string "type"/);
  });

  it('exits 1 with a one-line reason, not a stack trace, for a payload path that is a directory', async () => {
    const result = await runCli(cli.entry, ['preview', scratch]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`dodo-slack: cannot read payload ${scratch}: it is a directory\n`);
    expect(result.stdout).toBe('');
  });

  it('--mode test shows the message a test-mode event gets: the live one, marked TEST; --mode live is the default', async () => {
    const [live, explicit, test, text] = await Promise.all([
      runCli(cli.entry, ['preview', 'payment.succeeded']),
      runCli(cli.entry, ['preview', 'payment.succeeded', '--mode', 'live']),
      runCli(cli.entry, ['preview', 'payment.succeeded', '--mode', 'test']),
      runCli(cli.entry, ['preview', 'payment.succeeded', '--mode', 'test', '--format', 'text']),
    ]);
    expect([live.code, test.code, text.code]).toEqual([0, 0, 0]);
    expect(explicit.stdout).toBe(live.stdout);
    const liveMessage = JSON.parse(live.stdout) as { text: string; attachments: { blocks: unknown[] }[] };
    const testMessage = JSON.parse(test.stdout) as { text: string; attachments: { blocks: unknown[] }[] };
    expect(testMessage.text).toBe(`[TEST] ${liveMessage.text}`);
    expect(testMessage.attachments[0].blocks.slice(1)).toEqual(liveMessage.attachments[0].blocks);
    expect(JSON.stringify(testMessage.attachments[0].blocks[0])).toContain('TEST MODE');
    expect(validateSlackMessage(testMessage)).toEqual([]);
    expect(text.stdout.split('\n')[0]).toMatch(/^\[TEST\] /);
    const bad = await runCli(cli.entry, ['preview', 'payment.succeeded', '--mode', 'sandbox']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--mode must be live or test, got "sandbox"')]);
  });

  it('exits 2 with a clear message on usage errors', async () => {
    const results = await Promise.all([
      runCli(cli.entry, ['preview', 'payment.succeeded', '--formatt', 'text']),
      runCli(cli.entry, ['preview', 'payment.succeeded', '--format', 'xml']),
      runCli(cli.entry, ['preview']),
      runCli(cli.entry, ['preview', 'payment.succeded']),
      runCli(cli.entry, ['publish']),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2, 2, 2]);
    expect(results[0]?.stderr).toMatch(/Unknown option '--formatt'/);
    expect(results[1]?.stderr).toMatch(/--format must be json or text, got "xml"/);
    expect(results[2]?.stderr).toMatch(/missing payload file or event type/);
    expect(results[3]?.stderr).toMatch(/no built-in sample for event type "payment\.succeded".*payment\.succeeded/s);
    expect(results[4]?.stderr).toMatch(/unknown command "publish"/);
    for (const result of results) expect(result.stdout).toBe('');
  });

  it('prints usage on --help (exit 0)', async () => {
    const result = await runCli(cli.entry, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dodo-slack preview|preview <payload\.json \| event-type>/);
    expect(result.stdout).toMatch(/--data-dir/);
  });
});

describe('a reader that goes away', () => {
  it('exits 0 without a stack trace when stdout is closed (dodo-slack --help | head)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cli.entry, '--help'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the CLI writes a byte, so its first write meets EPIPE every time (head closes later, by luck).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
