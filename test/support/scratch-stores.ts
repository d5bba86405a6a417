import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openStore, type LocalStore } from '../../lambda/local/store';

/**
 * Fresh serve stores for a suite: each call opens a new one (as its data dir's serve) under one
 * scratch folder; all are closed and the folder removed after the suite.
 */
export function useScratchStores(): () => LocalStore {
  let scratch: string | undefined;
  const opened: LocalStore[] = [];
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-stores-'));
  });
  afterAll(() => {
    opened.splice(0).forEach((store) => store.close());
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return () => {
    if (!scratch) throw new Error('scratch stores open inside a test or a hook');
    const store = openStore(path.join(scratch, `store-${opened.length + 1}`), { owner: true });
    opened.push(store);
    return store;
  };
}
