/**
 * The SQLite file of `dodo-slack serve` (better-sqlite3) in `--data-dir`, opened once and shared by
 * the stores of each concern (events.ts, run-once.ts, summaries.ts, threads.ts, rollups.ts) on one
 * connection, so one transaction may span them.
 *
 * better-sqlite3 is synchronous on purpose: the receiver commits inside the request, before the
 * answer is written. WAL with synchronous=NORMAL: a commit survives the process (SIGKILL, a crash)
 * without an fsync of its own; the accept alone commits with FULL (events.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import { lockDataDir } from './lock';
import { migrate } from './schema';
import { StoreError } from './store-error';

/** Name of the database file inside the data dir. */
export const STORE_FILE = 'dodo-slack.db';

/** One open connection and its prepared statements. */
export interface StoreDatabase {
  readonly file: string;
  readonly db: Database.Database;
  /** The statement for `text`, prepared on first use (the read-only commands never prepare the writes). */
  readonly sql: (text: string) => Database.Statement;
}

export interface OpenOptions {
  /** For the `dead-letters list|show|export` commands, which may run beside a live `serve`. */
  readonly readOnly?: boolean;
  /** This process is the data dir's `serve`: take the lock that keeps a second one out. */
  readonly owner?: boolean;
}

/**
 * Opens (creating when missing) the database in `dataDir` and brings its schema up to date. The
 * folder is created 0700 and the database 0600: they hold whole event bodies with customer emails.
 * Returns the connection and the release of everything it took (the lock included).
 */
export function openDatabase(dataDir: string, options: OpenOptions = {}): { readonly database: StoreDatabase; readonly close: () => void } {
  const file = path.join(dataDir, STORE_FILE);
  let releaseLock = (): void => undefined;
  if (options.readOnly) {
    if (!fs.existsSync(file)) throw new StoreError(`no store in ${dataDir} (${STORE_FILE} is missing); start \`dodo-slack serve --data-dir ${dataDir}\` first`);
  } else {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Created here with 0600 so SQLite never creates it world-readable; its -wal and -shm files take the same mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);
  }
  const BetterSqlite3 = loadSqliteDriver();
  if (options.owner && !options.readOnly) releaseLock = lockDataDir(dataDir, BetterSqlite3);
  let db: Database.Database;
  try {
    db = new BetterSqlite3(file, { readonly: options.readOnly === true, timeout: 5000 });
  } catch (error) {
    releaseLock();
    throw new StoreError(`cannot open the store ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    if (!options.readOnly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
  } catch (error) {
    db.close();
    releaseLock();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot open the store ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const statements = new Map<string, Database.Statement>();
  const database: StoreDatabase = {
    file,
    db,
    sql: (text) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = db.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
  };
  return {
    database,
    close() {
      db.close();
      releaseLock();
    },
  };
}

/**
 * better-sqlite3, loaded when a store is opened: the native binding costs start-up time that preview
 * and send do not need. It is an optional dependency, so an app that only embeds the construct
 * installs without a native build; where it is missing or did not build, say what to run.
 */
function loadSqliteDriver(): typeof Database {
  try {
    // A require (not an import) so that loading it is deferred to here and its absence can be reported.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and optional: loaded when a store opens, and its absence is reported below
    return require('better-sqlite3') as typeof Database;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new StoreError(
      `serve's store needs better-sqlite3 12 (an optional dependency, with a native binding), and it cannot be loaded here (${detail}). ` +
        'Install or rebuild it: `npm install better-sqlite3@12` (or `npm rebuild better-sqlite3`; it builds with python3, make and a C++ compiler where no prebuilt binary fits).',
    );
  }
}
