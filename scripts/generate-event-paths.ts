/**
 * Writes lambda/shared/event-paths.ts: for each event type, the dotted paths its envelope has,
 * read from the real Dodo body in samples/<type>.json (arrays flattened: the elements' paths
 * continue the array's path, with no index). Route-filter warnings use it to point out a filter
 * path that no event a route takes has. A test checks the committed file against this script's
 * output, so rerun it after changing a sample:
 *
 *   npx ts-node --transpile-only scripts/generate-event-paths.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
export const SAMPLES_DIR = path.join(ROOT, 'samples');
export const EVENT_PATHS_FILE = path.join(ROOT, 'lambda', 'shared', 'event-paths.ts');

/** Paths every envelope has, whatever its sample holds. */
const ENVELOPE_PATHS = ['business_id', 'type', 'timestamp', 'data'];

/** Every dotted path under `value` (objects' keys, arrays' elements' keys), each prefixed with `prefix`. */
function addPaths(value: unknown, prefix: string, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const element of value) addPaths(element, prefix, into);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, nested] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    into.add(path);
    addPaths(nested, path, into);
  }
}

/** The sorted paths of each sample's event type, keyed by type, types sorted. */
export function eventPathsOf(samplesDir: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  const files = fs.readdirSync(samplesDir).filter((name) => name.endsWith('.json')).sort();
  for (const file of files) {
    const body = JSON.parse(fs.readFileSync(path.join(samplesDir, file), 'utf8')) as { type?: unknown };
    if (typeof body.type !== 'string') throw new Error(`${file}: a sample needs a string "type"`);
    const paths = new Set(ENVELOPE_PATHS);
    addPaths(body, '', paths);
    result[body.type] = [...paths].sort();
  }
  return result;
}

/** `text` as a single-quoted TypeScript string literal. */
function quote(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}

/** The source of lambda/shared/event-paths.ts for the samples in `samplesDir`. */
export function renderEventPaths(samplesDir: string): string {
  const lines = Object.entries(eventPathsOf(samplesDir)).map(
    ([type, paths]) => `  ${quote(type)}: [${paths.map(quote).join(', ')}],`,
  );
  return [
    '// Generated from samples/*.json by scripts/generate-event-paths.ts; do not edit by hand:',
    '//   npx ts-node --transpile-only scripts/generate-event-paths.ts',
    '',
    '/**',
    ' * For each event type, the dotted paths its envelope has (arrays flattened, no indices), from one',
    ' * real body per type. Used to warn about route-filter paths no event a route takes has; a body may',
    ' * have more (an empty array here has elements elsewhere, `metadata` holds any key).',
    ' */',
    'export const KNOWN_EVENT_PATHS: Readonly<Record<string, readonly string[]>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

if (require.main === module) {
  fs.writeFileSync(EVENT_PATHS_FILE, renderEventPaths(SAMPLES_DIR));
  console.log(`wrote ${path.relative(ROOT, EVENT_PATHS_FILE)}`);
}
