/**
 * Event-type globs, as users write them in `events` and `routes`: `*` (everything), `payment.*`
 * (a family), `dispute.opened` (one type). `*` matches any run of characters, including dots.
 */

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
  const patterns = globs.map(globToRegExp);
  return (eventType) => {
    const names = [eventType, canonicalEventType(eventType)];
    return patterns.some((pattern) => names.some((name) => pattern.test(name)));
  };
}
