import { readFileSync } from 'node:fs';
import { KNOWN_EVENT_PATHS } from '../../lambda/shared/event-paths';
import { KNOWN_EVENT_TYPES } from '../../lambda/shared/event-types';
import { EVENT_PATHS_FILE, SAMPLES_DIR, renderEventPaths } from '../../scripts/generate-event-paths';

describe('KNOWN_EVENT_PATHS', () => {
  test('the committed file is what the script generates from samples/ (rerun: npx ts-node --transpile-only scripts/generate-event-paths.ts)', () => {
    expect(readFileSync(EVENT_PATHS_FILE, 'utf8')).toBe(renderEventPaths(SAMPLES_DIR));
  });

  test('covers every known event type, each with the envelope paths', () => {
    expect(Object.keys(KNOWN_EVENT_PATHS)).toEqual(expect.arrayContaining([...KNOWN_EVENT_TYPES]));
    for (const paths of Object.values(KNOWN_EVENT_PATHS)) {
      expect(paths).toEqual(expect.arrayContaining(['business_id', 'type', 'timestamp', 'data']));
    }
  });

  test('arrays are flattened into their elements’ paths, with no index', () => {
    expect(KNOWN_EVENT_PATHS['payment.succeeded']).toEqual(
      expect.arrayContaining(['data.product_cart', 'data.product_cart.product_id', 'data.customer.email', 'data.total_amount']),
    );
    const all = Object.values(KNOWN_EVENT_PATHS).flat();
    expect(all.filter((path) => path.split('.').some((segment) => /^\d+$/.test(segment)))).toEqual([]);
  });
});
