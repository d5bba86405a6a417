/** `dodo-slack slack-manifest`: a bot with exactly the scopes of the Web API methods app mode calls. */
import { readFileSync } from 'node:fs';
import { main } from '../../bin/dodo-slack';
import { METHOD_SCOPES } from '../../lambda/local/slack-manifest';

/** The parts of the printed manifest these tests read. */
interface Manifest {
  readonly display_information: { readonly name: string };
  readonly features: { readonly bot_user: { readonly display_name: string } };
  readonly oauth_config: { readonly scopes: { readonly bot: string[] } };
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['slack-manifest', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} });
  return { code, stdout, stderr };
}

test('public channel: chat:write and channels:history, nothing else', async () => {
  const { code, stdout } = await run();
  expect(code).toBe(0);
  const manifest = JSON.parse(stdout) as Manifest;
  expect(manifest.oauth_config.scopes).toEqual({ bot: ['chat:write', 'channels:history'] });
  expect(manifest.features.bot_user.display_name).toBe('Dodo Payments');
  // No events, interactivity or socket mode: the app only posts and reads back its own messages.
  expect(Object.keys(manifest).sort()).toEqual(['display_information', 'features', 'oauth_config', 'settings']);
  expect(Object.keys(manifest.features)).toEqual(['bot_user']);
});

test('private channel and a name', async () => {
  const manifest = JSON.parse((await run('--private', '--name', 'Payments bot')).stdout) as Manifest;
  expect(manifest.oauth_config.scopes.bot).toEqual(['chat:write', 'groups:history']);
  expect(manifest.display_information.name).toBe('Payments bot');
});

test('every method the delivery calls has its scope in the table the manifest is built from', () => {
  const source = readFileSync(require.resolve('../../lambda/transformer/slack-app-delivery.ts'), 'utf8');
  const called = new Set([...source.matchAll(/'((?:chat|conversations)\.[A-Za-z]+)'/g)].map((m) => m[1]));
  expect([...called].sort()).toEqual(Object.keys(METHOD_SCOPES).sort());
});

test('usage errors', async () => {
  expect((await run('extra')).code).toBe(2);
  expect((await run('--name', '')).stderr).toMatch(/--name must be 1 to 35 characters/);
});
