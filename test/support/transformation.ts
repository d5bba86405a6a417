import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CoreLogger } from '../../lambda/shared/ports';
import type { TransformInput } from '../../lambda/shared/transformation';

export const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures', 'dodo');
export const EXAMPLES_DIR = path.join(__dirname, '..', '..', 'examples');

export const ALL_EVENT_TYPES: string[] = fs
  .readdirSync(FIXTURE_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.slice(0, -'.json'.length))
  .sort();

export function fixtureBody(eventType: string): string {
  return fs.readFileSync(path.join(FIXTURE_DIR, `${eventType}.json`), 'utf8');
}

/** A transform input as the transformer builds it from a queued webhook. */
export function inputFor(eventType: string, webhookId = 'msg_2Kx8sTest'): TransformInput {
  const rawBody = fixtureBody(eventType);
  return {
    webhookId,
    eventType,
    envelope: JSON.parse(rawBody) as TransformInput['envelope'],
    rawBody,
    headers: { 'webhook-id': webhookId, 'webhook-timestamp': '1773480413' },
  };
}

export interface RecordedLine {
  level: keyof CoreLogger;
  message: string;
  extra?: Record<string, unknown>;
}

export function recordingLogger(): CoreLogger & { lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const record = (level: keyof CoreLogger) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, extra });
  };
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}
