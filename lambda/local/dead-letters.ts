/**
 * `dodo-slack dead-letters list|show|redrive|export`: the dead letters of a `serve` data dir, read
 * from its store (what the SQS console shows for the dead-letter queue on AWS). May run beside a
 * live `serve`: a redriven event is picked up at its next look at the store (within a second).
 */
import * as fs from 'node:fs';
import { stripControlCharacters } from './terminal-render';
import { openStore, type StoredEvent } from './store';

/** One dead letter as `show` and `export` print it: the event with its reason, the raw body as received. */
export function deadLetterRecord(event: StoredEvent): Record<string, unknown> {
  return {
    id: event.id,
    route: event.route,
    webhookId: event.webhookId,
    webhookTimestamp: event.webhookTimestamp,
    type: event.eventType,
    mode: event.mode,
    reason: event.reason ?? null,
    attempts: event.attempts,
    lastSlackResponse: event.lastSlackResponse ?? null,
    receivedAt: new Date(event.receivedAt).toISOString(),
    deadLetteredAt: event.finishedAt === undefined ? null : new Date(event.finishedAt).toISOString(),
    body: event.body,
  };
}

/** One line per dead letter, for a person. */
export function listDeadLetters(dataDir: string): string {
  const store = openStore(dataDir, { readOnly: true });
  try {
    const deadLetters = store.events.deadLetters();
    if (deadLetters.length === 0) return `no dead letters in ${dataDir}\n`;
    const lines = deadLetters.map((event) =>
      [
        String(event.id).padStart(6),
        event.finishedAt === undefined ? '-' : new Date(event.finishedAt).toISOString(),
        stripControlCharacters(event.eventType),
        stripControlCharacters(event.webhookId),
        `${event.attempts} attempt(s)`,
        stripControlCharacters(event.reason ?? ''),
      ].join('  '),
    );
    return `${lines.join('\n')}\n${deadLetters.length} dead letter(s); \`dodo-slack dead-letters show ID\` for one, \`redrive ID|--all\` after the fix\n`;
  }
  finally {
    store.close();
  }
}

/** The dead letter as JSON; undefined when `id` is not one. */
export function showDeadLetter(dataDir: string, id: number): string | undefined {
  const store = openStore(dataDir, { readOnly: true });
  try {
    const event = store.events.get(id);
    return event?.state === 'dead-lettered' ? `${JSON.stringify(deadLetterRecord(event), null, 2)}\n` : undefined;
  } finally {
    store.close();
  }
}

/** Back to pending (attempts reset; deduplication still applies): the ids redriven. */
export function redriveDeadLetters(dataDir: string, which: number | 'all'): number {
  const store = openStore(dataDir);
  try {
    return which === 'all' ? store.events.redriveAll() : store.events.redrive(which) ? 1 : 0;
  } finally {
    store.close();
  }
}

/**
 * Every dead letter as JSON lines, to `output` (created 0600: the bodies hold customer data) or
 * returned for stdout. Returns how many.
 */
export function exportDeadLetters(dataDir: string, output?: string): { readonly count: number; readonly text?: string } {
  const store = openStore(dataDir, { readOnly: true });
  let text: string;
  let count: number;
  try {
    const deadLetters = store.events.deadLetters();
    count = deadLetters.length;
    text = deadLetters.map((event) => `${JSON.stringify(deadLetterRecord(event))}\n`).join('');
  } finally {
    store.close();
  }
  if (output === undefined) return { count, text };
  fs.writeFileSync(output, text, { mode: 0o600 });
  // An existing file keeps its mode through writeFileSync: make sure it is private too.
  fs.chmodSync(output, 0o600);
  return { count };
}
