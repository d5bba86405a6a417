/**
 * Summary periods in an IANA time zone, computed with `Intl` only (no date library): a day is
 * local midnight to local midnight, a week Monday 00:00 to the next Monday 00:00. Across a DST
 * change a day has 23 or 25 hours; a local time that does not exist (skipped by a spring-forward)
 * starts at the first instant after it, one that exists twice (fall-back) at its first occurrence.
 */

export type PeriodKind = 'day' | 'week';

/** A calendar date: `{ year: 2026, month: 12, day: 1 }` (month 1..12). */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** One summary period: `[startMs, endMs)` in epoch ms, named by its first local day. */
export interface Period {
  readonly kind: PeriodKind;
  readonly timeZone: string;
  /** The first local day (a Monday for weeks), `YYYY-MM-DD`. */
  readonly firstDay: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** A time zone that Intl does not know, or a date that is not one. */
export class PeriodError extends Error {
  override name = 'PeriodError';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The canonical name of an IANA time zone (`europe/berlin` → `Europe/Berlin`, `UTC`); throws
 * PeriodError naming the value for one Intl does not know. Offsets such as `+01:00` are refused:
 * they have no DST rules, so "09:00 local" would drift twice a year.
 */
export function checkTimeZone(timeZone: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) {
    throw new PeriodError(`time zone must be an IANA name such as Europe/Berlin or UTC, got ${JSON.stringify(timeZone)}`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new PeriodError(`unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/Berlin, America/New_York or UTC`);
  }
}

/** Wall-clock fields of `ms` in `timeZone`. */
export function wallClock(ms: number, timeZone: string): CalendarDate & { readonly hour: number; readonly minute: number; readonly second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** Offset of `timeZone` from UTC at `ms`, in minutes (Berlin in winter: 60). */
export function utcOffsetMinutes(ms: number, timeZone: string): number {
  const wall = wallClock(ms, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

function wallNumber(wall: { year: number; month: number; day: number; hour: number; minute: number; second: number }): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

/**
 * The first instant whose local wall-clock time in `timeZone` is at or after the given one:
 * exact for ordinary times, the first moment after a skipped hour, the first of a repeated one.
 * A binary search on whole seconds over ±15 h around the UTC reading of the wall time (every
 * zone's offset is within that), so it needs no knowledge of the zone's rules.
 */
export function zonedWallTimeToUtc(date: CalendarDate, hour: number, minute: number, timeZone: string): number {
  const target = Date.UTC(date.year, date.month - 1, date.day, hour, minute, 0);
  const reached = (seconds: number): boolean => wallNumber(wallClock(seconds * 1000, timeZone)) >= target;
  const low = target / 1000 - 15 * 3600; // local time here is before the target
  let high = target / 1000 + 15 * 3600; // and here at or after it
  for (;;) {
    let from = low;
    while (high - from > 1) {
      const middle = Math.floor((from + high) / 2);
      if (reached(middle)) high = middle;
      else from = middle;
    }
    // Within a repeated hour the search may land on the second occurrence: look an hour earlier.
    if (high - 3600 > low && reached(high - 3600)) high -= 3600;
    else return high * 1000;
  }
}

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `2026-12-01` → a calendar date; throws PeriodError for anything else (2026-02-30 included). */
export function parseCalendarDate(text: string): CalendarDate {
  const match = DATE_SHAPE.exec(text);
  if (!match) throw new PeriodError(`a date is YYYY-MM-DD, got ${JSON.stringify(text)}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new PeriodError(`no such date: ${text}`);
  }
  return { year, month, day };
}

export function formatCalendarDate(date: CalendarDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/** The calendar date `days` after `date` (negative: before); plain calendar arithmetic. */
export function addDays(date: CalendarDate, days: number): CalendarDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** 1 = Monday … 7 = Sunday (ISO 8601). */
export function isoWeekday(date: CalendarDate): number {
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/** The day, or the Monday-first week, that contains the local date `date`. */
export function periodOf(kind: PeriodKind, date: CalendarDate, timeZone: string): Period {
  const first = kind === 'day' ? date : addDays(date, 1 - isoWeekday(date));
  const after = addDays(first, kind === 'day' ? 1 : 7);
  return {
    kind,
    timeZone,
    firstDay: formatCalendarDate(first),
    startMs: zonedWallTimeToUtc(first, 0, 0, timeZone),
    endMs: zonedWallTimeToUtc(after, 0, 0, timeZone),
  };
}

/** The period of the same kind that contains the instant `ms`. */
export function periodContaining(kind: PeriodKind, ms: number, timeZone: string): Period {
  const wall = wallClock(ms, timeZone);
  return periodOf(kind, { year: wall.year, month: wall.month, day: wall.day }, timeZone);
}

/** The period just before `period` (the previous day, the previous week). */
export function previousPeriod(period: Period): Period {
  return periodOf(period.kind, addDays(parseCalendarDate(period.firstDay), period.kind === 'day' ? -1 : -7), period.timeZone);
}

/** The last period that ended at or before `ms` (what a summary posted at `ms` is about). */
export function lastCompletedPeriod(kind: PeriodKind, ms: number, timeZone: string): Period {
  return previousPeriod(periodContaining(kind, ms, timeZone));
}

const WEEKDAY_FORMAT = new Map<string, Intl.DateTimeFormat>();

/** `Tue 1 Dec 2026` for a day, `week of Mon 30 Nov 2026` for a week. */
export function periodLabel(period: Period): string {
  const date = parseCalendarDate(period.firstDay);
  let format = WEEKDAY_FORMAT.get('label');
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    WEEKDAY_FORMAT.set('label', format);
  }
  const text = format.format(new Date(Date.UTC(date.year, date.month - 1, date.day))).replace(/,/g, '');
  return period.kind === 'day' ? text : `week of ${text}`;
}

/** `UTC+01:00` at `ms` in `timeZone`. */
export function offsetLabel(ms: number, timeZone: string): string {
  const minutes = utcOffsetMinutes(ms, timeZone);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `2026-12-01 00:00` local time of `ms` in `timeZone`. */
export function localDateTime(ms: number, timeZone: string): string {
  const wall = wallClock(ms, timeZone);
  return `${formatCalendarDate(wall)} ${String(wall.hour).padStart(2, '0')}:${String(wall.minute).padStart(2, '0')}`;
}
