/**
 * The README's path for a new user, through the real entry points: `npm start` and the
 * ready-to-paste `npx dodo-slack send …` line it prints. Slow-ish (npm and npx start-up, a
 * second or two each), so this is the only test that pays for it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cleanEnv, REPO_ROOT, RunningProcess } from './cli-harness';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-start-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function spawnInOwnGroup(command: string, args: readonly string[]): RunningProcess {
  // Own process group: Ctrl-C in a terminal signals npm, sh and node together; the test does the same.
  return new RunningProcess(spawn(command, args, { cwd: REPO_ROOT, env: cleanEnv(), detached: true }));
}

it('npm start serves with a generated demo key and prints a send line that works as pasted', async () => {
  const start = spawnInOwnGroup(npm, ['start', '--silent', '--', '--port', '0', '--data-dir', path.join(scratch, 'data')]);
  try {
    const [, url] = await start.waitFor(/^listening on (http:\/\/127\.0\.0\.1:\d+\/webhooks\/dodo)$/m, 30_000);
    const [sendLine, key] = await start.waitFor(/npx dodo-slack send payment\.succeeded --url \S+ --secret (whsec_\S+)/);
    expect(sendLine).toContain(`--url ${url} `);
    expect(key).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(start.stdout).toMatch(/demo signing key \(generated for this run\): whsec_/);

    // Paste the line as printed (split on spaces: the key is base64, no shell quoting needed).
    const [command, ...args] = sendLine.split(' ');
    const send = spawnInOwnGroup(command, args);
    expect(await send.exited).toBe(0);
    expect(send.stdout).toBe('200 OK\n{"received":true}\n');
    await start.waitFor(/payment\.succeeded → delivered \(attempt 1/);
    expect(start.stdout).toContain('Payment succeeded: $29.99 from Ada Lovelace');
  } finally {
    if (start.child.exitCode === null && start.child.pid !== undefined) process.kill(-start.child.pid, 'SIGINT');
  }
  // npm itself may die of the SIGINT (that is npm's choice); the server under it must shut down cleanly.
  const code = await start.exited;
  expect(code === 0 || start.child.signalCode === 'SIGINT').toBe(true);
  expect(start.stdout).toMatch(/SIGINT: finishing in-flight deliveries…/);
  expect(start.stdout.endsWith('stopped\n')).toBe(true);
  expect(start.stdout).toMatch(/summary: 1 received, 1 delivered/);
}, 60_000);
