/**
 * When summaries are posted: `daily@09:00` (every day at 09:00 local time, about the day before)
 * or `weekly@mon-09:00` (every Monday at 09:00, about the week before, Monday first), in an IANA
 * time zone. The same shapes for `serve --summary` and, as numbers, for the construct's prop.
 */
import { addDays, isoWeekday, lastCompletedPeriod, wallClock, zonedWallTimeToUtc, type Period, type PeriodKind } from './period';

export interface SummarySchedule {
  readonly kind: PeriodKind;
  /** 0..23, local time. */
  readonly hour: number;
  /** 0..59. */
  readonly minute: number;
  /** Weekly only: 1 = Monday … 7 = Sunday. */
  readonly weekday?: number;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The schedule text is not one of the accepted shapes. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const SHAPE = /^(daily|weekly)@(?:(mon|tue|wed|thu|fri|sat|sun)-)?([01]\d|2[0-3]):([0-5]\d)$/;

/** `daily@09:00` | `weekly@mon-09:00` → a schedule; throws ScheduleError with the accepted shapes. */
export function parseSummarySchedule(text: string): SummarySchedule {
  const match = SHAPE.exec(text.trim().toLowerCase());
  const problem = `a summary schedule is daily@HH:MM or weekly@DAY-HH:MM (DAY: ${WEEKDAYS.join(', ')}), e.g. daily@09:00 or weekly@mon-09:00; got ${JSON.stringify(text)}`;
  if (!match) throw new ScheduleError(problem);
  const [, kind, day, hour, minute] = match;
  if (kind === 'daily' && day !== undefined) throw new ScheduleError(problem);
  if (kind === 'weekly' && day === undefined) throw new ScheduleError(problem);
  return {
    kind: kind === 'daily' ? 'day' : 'week',
    hour: Number(hour),
    minute: Number(minute),
    ...(day === undefined ? {} : { weekday: WEEKDAYS.indexOf(day as (typeof WEEKDAYS)[number]) + 1 }),
  };
}

/** `daily@09:00`, `weekly@mon-09:00`. */
export function formatSummarySchedule(schedule: SummarySchedule): string {
  const time = `${String(schedule.hour).padStart(2, '0')}:${String(schedule.minute).padStart(2, '0')}`;
  return schedule.kind === 'day' ? `daily@${time}` : `weekly@${WEEKDAYS[(schedule.weekday ?? 1) - 1]}-${time}`;
}

/** The first run strictly after `afterMs`, in `timeZone` (a run at a skipped local time happens just after the jump). */
export function nextRunAt(schedule: SummarySchedule, afterMs: number, timeZone: string): number {
  const wall = wallClock(afterMs, timeZone);
  let date = { year: wall.year, month: wall.month, day: wall.day };
  for (let i = 0; i < 9; i += 1) {
    if (schedule.kind === 'day' || isoWeekday(date) === schedule.weekday) {
      const at = zonedWallTimeToUtc(date, schedule.hour, schedule.minute, timeZone);
      if (at > afterMs) return at;
    }
    date = addDays(date, 1);
  }
  throw new ScheduleError(`no run of ${formatSummarySchedule(schedule)} within 9 days of ${new Date(afterMs).toISOString()}`);
}

/** The period a run at `runAtMs` reports on: the last one that ended by then. */
export function periodForRun(schedule: SummarySchedule, runAtMs: number, timeZone: string): Period {
  return lastCompletedPeriod(schedule.kind, runAtMs, timeZone);
}
