/** `serve`'s Dodo API options: the key from DODO_API_KEY (or the variable a configuration names), --dodo-api-url checked. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseServeOptions } from '../../bin/dodo-slack';

const io = (env: Record<string, string>) => ({ stdout: () => {}, stderr: () => {}, env: { DODO_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...env } });
const options = (args: string[], env: Record<string, string> = {}) => {
  const parsed = parseServeOptions(args, io(env));
  if (parsed.help) throw new Error('help');
  return parsed.options;
};

test('no key: no look-ups, as before', () => {
  expect(options([])).not.toHaveProperty('dodoApiKey');
});

test('DODO_API_KEY and --dodo-api-url', () => {
  expect(options(['--dodo-api-url', 'http://127.0.0.1:4010'], { DODO_API_KEY: 'dodo_sk_1' })).toMatchObject({ dodoApiKey: 'dodo_sk_1', dodoApiUrl: 'http://127.0.0.1:4010' });
  expect(options([], { DODO_API_KEY: 'dodo_sk_1' })).not.toHaveProperty('dodoApiUrl');
});

test('--dodo-api-url needs the key, and https beyond this machine (the key travels with each request)', () => {
  expect(() => options(['--dodo-api-url', 'http://127.0.0.1:4010'])).toThrow(/needs a Dodo API key in DODO_API_KEY/);
  expect(() => options(['--dodo-api-url', 'http://proxy.example.com'], { DODO_API_KEY: 'k' })).toThrow(/must use https/);
  expect(() => options(['--dodo-api-url', 'not a url'], { DODO_API_KEY: 'k' })).toThrow(/http or https URL/);
  expect(options(['--dodo-api-url', 'https://proxy.example.com'], { DODO_API_KEY: 'k' })).toMatchObject({ dodoApiUrl: 'https://proxy.example.com' });
});

test("with --config, the key is read from the variable the file's dodoApiKeyEnv names", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dodo-names-options-'));
  try {
    const file = path.join(dir, 'dodo-slack.config.json');
    writeFileSync(file, JSON.stringify({ routes: [{ id: 'Sales', slackWebhookUrlEnv: 'SLACK_SALES_URL' }], dodoApiKeyEnv: 'DODO_SALES_KEY' }));
    expect(options(['--config', file], { DODO_SALES_KEY: 'dodo_sk_sales', DODO_API_KEY: 'other' })).toMatchObject({ dodoApiKey: 'dodo_sk_sales' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
