/**
 * One `serve` per data dir: two would deliver the same pending events. The lock is an exclusive
 * SQLite lock (a POSIX advisory lock on `serve.lock`), which the kernel releases when the process
 * ends however it ends: a SIGKILL, a crash, a power cut, and also a killed `serve` that lingers as
 * a zombie until its parent reaps it (its files are closed when it exits), or a pid reused after a
 * reboot; neither blocks the next `serve`, as a pid file would. The `dead-letters` and `summary`
 * commands open the database itself, not this file, so they may run beside a live `serve`.
 *
 * `serve.pid` beside it only says, in the refusal, which process holds the lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { StoreError } from './store-error';

const LOCK_FILE = 'serve.lock';
const PID_FILE = 'serve.pid';

/** Data dirs this process holds: a second open in the same process is refused with its own words. */
const heldByThisProcess = new Set<string>();

/** Takes the data dir's lock or throws StoreError naming the holder; returns the release. */
export function lockDataDir(dataDir: string, BetterSqlite3: typeof Database): () => void {
  const key = path.resolve(dataDir);
  if (heldByThisProcess.has(key)) throw new StoreError(`${dataDir} is already in use by this process`);
  const lockFile = path.join(dataDir, LOCK_FILE);
  let lock: Database.Database;
  try {
    fs.closeSync(fs.openSync(lockFile, 'a', 0o600));
    lock = new BetterSqlite3(lockFile, { timeout: 0 });
  } catch (error) {
    throw new StoreError(`cannot lock ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // EXCLUSIVE locking mode keeps the lock the first write takes until the connection closes.
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    lock.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      const holder = readPid(path.join(dataDir, PID_FILE));
      throw new StoreError(`another dodo-slack serve${holder === undefined ? '' : ` (pid ${holder})`} is using ${dataDir}; stop it, or pass another --data-dir`);
    }
    throw new StoreError(`cannot lock ${dataDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  heldByThisProcess.add(key);
  const pidFile = path.join(dataDir, PID_FILE);
  fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    if (!heldByThisProcess.delete(key)) return;
    fs.rmSync(pidFile, { force: true });
    lock.close();
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
