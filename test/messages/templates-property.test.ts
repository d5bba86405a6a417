import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import { renderBuiltinMessage } from '../../lambda/messages/templates';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dodo');
const envelopes: DodoWebhookEnvelope[] = fs
  .readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as DodoWebhookEnvelope);

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(allStrings);
  return [];
}

/** Hostile-leaning strings: Slack control characters are over-represented on purpose. */
const nastyString = fc.oneof(
  fc.string({ unit: fc.constantFrom('<', '>', '&', '!', '@', '|', '*', '`', '_', '~', '\n', 'a', ' ', '😀') , maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('<!channel>', '<!here>', '<@U123>', '<https://evil|click>', '&lt;', 'null', '1970-01-01T00:00:00Z'),
  fc.constantFrom(3001, 10_000).map((n) => 'y'.repeat(n)),
);
const payloadValue = fc.oneof(nastyString, fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));

describe('any payload', () => {
  it('renders a valid message where every "<" is a token the templates wrote', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...envelopes),
        fc.dictionary(fc.string({ maxLength: 3 }), payloadValue, { maxKeys: 3 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(payloadValue, { maxLength: 8 }),
        (envelope, extra, keyPicks, values) => {
          const keys = Object.keys(envelope.data);
          const data: Record<string, unknown> = { ...envelope.data, ...extra };
          keyPicks.forEach((pick, i) => {
            if (keys.length > 0 && i < values.length) data[keys[pick % keys.length]] = values[i];
          });
          const message = renderBuiltinMessage({ ...envelope, data }, { dashboardBaseUrl: 'https://app.dodopayments.com' });
          expect(validateSlackMessage(message)).toEqual([]);
          // `text` and the attachment's `fallback` are one line each; every string, the fallback included, is escaped.
          expect(message.text).not.toMatch(/[\r\n]/);
          expect(message.attachments![0].fallback).not.toMatch(/[\r\n]/);
          for (const text of allStrings(message)) {
            expect(text.replace(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>/g, '')).not.toMatch(/[<>]/);
            expect(text).not.toMatch(/\bNaN\b|\bundefined\b|\[object Object\]/);
          }
        },
      ),
      { numRuns: 300, seed: 20260314 },
    );
  });
});
