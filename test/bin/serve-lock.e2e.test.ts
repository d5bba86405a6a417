/**
 * One `serve` per data dir, held by a lock the kernel releases when the holder ends: a second serve
 * is refused while the first runs, naming it; a serve killed with SIGKILL frees the data dir at
 * once, even while it lingers as a zombie its parent has not reaped (a pid file would still name a
 * process that looks alive).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCli, cleanEnv, REPO_ROOT, runCli, startServe, type BuiltCli } from './cli-harness';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let cli: BuiltCli;
let scratch: string;
beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-lock-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const env = () => cleanEnv({ DODO_WEBHOOK_SECRET: SECRET });

test('a second serve on a data dir in use is refused with the holder named; after a clean stop the dir is free', async () => {
  const dataDir = path.join(scratch, 'shared');
  const first = await startServe(cli.entry, ['--data-dir', dataDir], env());
  try {
    const second = await runCli(cli.entry, ['serve', '--port', '0', '--data-dir', dataDir], { env: env() });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another dodo-slack serve (pid ${first.process.child.pid}) is using ${dataDir}; stop it, or pass another --data-dir`);
    // The dead-letters commands read beside it.
    expect((await runCli(cli.entry, ['dead-letters', 'list', '--data-dir', dataDir], { env: env() })).code).toBe(0);
  } finally {
    expect(await first.process.stop('SIGTERM')).toBe(0);
  }
  const again = await startServe(cli.entry, ['--data-dir', dataDir], env());
  await again.process.stop('SIGTERM');
});

test('a serve killed with SIGKILL and left a zombie (its parent never reaps it) does not keep the next serve out', async () => {
  const dataDir = path.join(scratch, 'zombie');
  // The shell starts serve in the background, prints its pid, and becomes `sleep`, which never waits for its children.
  const parent = spawn('sh', ['-c', `"${process.execPath}" "${cli.entry}" serve --port 0 --data-dir "${dataDir}" & echo "pid $!"; exec sleep 60`], { env: env(), cwd: REPO_ROOT });
  let output = '';
  parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  try {
    const deadline = Date.now() + 20_000;
    while (!/listening on /.test(output)) {
      if (Date.now() > deadline) throw new Error(`serve did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pid = Number(/^pid (\d+)$/m.exec(output)?.[1]);
    process.kill(pid, 'SIGKILL');
    const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    while (state() !== 'Z') await new Promise((resolve) => setTimeout(resolve, 20));
    // A zombie still answers kill(pid, 0): by a pid file it would look alive.
    expect(() => process.kill(pid, 0)).not.toThrow();

    const next = await startServe(cli.entry, ['--data-dir', dataDir], env());
    expect(next.process.stdout).toContain('store: ');
    expect(await next.process.stop('SIGTERM')).toBe(0);
    expect(state()).toBe('Z');
  } finally {
    parent.kill('SIGKILL');
  }
});
