/**
 * Event-type globs, as users write them in `events` and `routes`: `*` (everything), `payment.*`
 * (a family), `dispute.opened` (one type). `*` matches any run of characters, including dots.
 */

import { KNOWN_EVENT_TYPES } from './event-types';
import { editDistance } from './edit-distance';

/** Dodo renamed `payout.not_initiated` to `payout.created`; both names mean the same event. */
const LEGACY_EVENT_NAMES: Readonly<Record<string, string>> = {
  'payout.not_initiated': 'payout.created',
};

/** The current name of an event type (legacy names mapped to their successor). */
export function canonicalEventType(eventType: string): string {
  return LEGACY_EVENT_NAMES[eventType] ?? eventType;
}

const GLOB_SHAPE = /^[A-Za-z0-9_.*-]+$/;

/** Problems with a glob, for construct validation and CLI flags; empty when it is fine. */
export function globProblems(glob: string): string[] {
  if (glob.length === 0) return ['an event glob must not be empty'];
  if (!GLOB_SHAPE.test(glob)) {
    return [`event glob "${glob}" may only contain letters, digits, "_", "-", "." and "*"`];
  }
  return [];
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** A compiled matcher for a list of globs; an empty list matches nothing. */
export function compileEventGlobs(globs: readonly string[]): (eventType: string) => boolean {
  // The default `["*"]` forwards everything: no per-event matching (the receiver asks once per webhook).
  if (globs.includes('*')) return () => true;
  const patterns = globs.map(globToRegExp);
  return (eventType) => {
    const names = [eventType, canonicalEventType(eventType)];
    return patterns.some((pattern) => names.some((name) => pattern.test(name)));
  };
}

/**
 * Warnings for well-formed globs that match no event type this version knows (`paymnt.*`), each
 * naming the glob and the closest known type or family. Not errors: Dodo adds types, and a glob
 * for a new one must keep working; but a typo would otherwise drop every event without a word.
 */
export function unknownGlobWarnings(globs: readonly string[]): string[] {
  const known = [...KNOWN_EVENT_TYPES, ...Object.keys(LEGACY_EVENT_NAMES)];
  const families = [...new Set(KNOWN_EVENT_TYPES.map((type) => `${type.split('.')[0]}.*`))];
  const warnings: string[] = [];
  for (const glob of new Set(globs)) {
    if (globProblems(glob).length > 0) continue;
    const pattern = globToRegExp(glob);
    if (known.some((type) => pattern.test(type))) continue;
    // A glob with a wildcard is most likely a family; an exact name most likely a type.
    const candidates = glob.includes('*') ? [...families, ...KNOWN_EVENT_TYPES] : [...KNOWN_EVENT_TYPES, ...families];
    const closest = candidates.reduce((best, candidate) => (editDistance(glob, candidate) < editDistance(glob, best) ? candidate : best));
    warnings.push(
      `event glob "${glob}" matches no Dodo event type this version knows (closest: "${closest}"); ` +
        'it is kept, in case Dodo has added such a type, but check the spelling',
    );
  }
  return warnings;
}

