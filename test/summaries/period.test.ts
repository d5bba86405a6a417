import { checkTimeZone, lastCompletedPeriod, parseCalendarDate, PeriodError, periodContaining, periodOf, previousPeriod, zonedWallTimeToUtc } from '../../lambda/summaries/period';
import { nextRunAt, parseSummarySchedule, periodForRun, ScheduleError } from '../../lambda/summaries/schedule';

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (period: { startMs: number; endMs: number }) => (period.endMs - period.startMs) / 3_600_000;

describe('periods in an IANA time zone', () => {
  test('a day is local midnight to local midnight', () => {
    const day = periodOf('day', parseCalendarDate('2026-12-01'), 'Europe/Berlin');
    expect([iso(day.startMs), iso(day.endMs)]).toEqual(['2026-11-30T23:00:00.000Z', '2026-12-01T23:00:00.000Z']);
    expect(periodOf('day', parseCalendarDate('2026-12-01'), 'UTC')).toMatchObject({ startMs: Date.parse('2026-12-01T00:00:00Z'), endMs: Date.parse('2026-12-02T00:00:00Z') });
    // Half- and quarter-hour offsets.
    expect(iso(periodOf('day', parseCalendarDate('2026-12-01'), 'Asia/Kolkata').startMs)).toBe('2026-11-30T18:30:00.000Z');
    expect(iso(periodOf('day', parseCalendarDate('2026-12-01'), 'Asia/Kathmandu').startMs)).toBe('2026-11-30T18:15:00.000Z');
  });

  test('the DST changes: Berlin has a 23-hour day in March and a 25-hour day in October', () => {
    const spring = periodOf('day', parseCalendarDate('2026-03-29'), 'Europe/Berlin');
    expect([iso(spring.startMs), iso(spring.endMs), hours(spring)]).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23]);
    const autumn = periodOf('day', parseCalendarDate('2026-10-25'), 'Europe/Berlin');
    expect([iso(autumn.startMs), iso(autumn.endMs), hours(autumn)]).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', 25]);
    expect(hours(periodOf('week', parseCalendarDate('2026-03-29'), 'Europe/Berlin'))).toBe(167);
    expect(hours(periodOf('day', parseCalendarDate('2026-03-08'), 'America/New_York'))).toBe(23);
  });

  test('where the clocks skip midnight (Santiago in September) the day starts at the first instant after the jump', () => {
    const day = periodOf('day', parseCalendarDate('2026-09-06'), 'America/Santiago');
    expect(iso(day.startMs)).toBe('2026-09-06T04:00:00.000Z'); // 01:00 -03, right after 00:00 -04 jumped
    expect(hours(day)).toBe(23);
    // And a local time inside a skipped hour elsewhere is the first instant after it; a repeated one its first occurrence.
    expect(iso(zonedWallTimeToUtc(parseCalendarDate('2026-03-29'), 2, 30, 'Europe/Berlin'))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(zonedWallTimeToUtc(parseCalendarDate('2026-10-25'), 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
  });

  test('weeks run Monday to Monday; any day of the week names it; previous and containing periods', () => {
    const week = periodOf('week', parseCalendarDate('2026-12-03'), 'UTC');
    expect(week.firstDay).toBe('2026-11-30');
    expect(periodOf('week', parseCalendarDate('2026-12-06'), 'UTC').firstDay).toBe('2026-11-30'); // Sunday
    expect(periodOf('week', parseCalendarDate('2026-12-07'), 'UTC').firstDay).toBe('2026-12-07');
    expect(previousPeriod(week).firstDay).toBe('2026-11-23');
    expect(periodContaining('day', Date.parse('2026-12-01T23:30:00Z'), 'Europe/Berlin').firstDay).toBe('2026-12-02');
    expect(lastCompletedPeriod('day', Date.parse('2026-12-02T08:00:00Z'), 'Europe/Berlin').firstDay).toBe('2026-12-01');
  });

  test('fails on unknown time zones, offsets and impossible dates, naming the value', () => {
    expect(checkTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(checkTimeZone('UTC')).toBe('UTC');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => checkTimeZone('+01:00')).toThrow(PeriodError);
    expect(() => parseCalendarDate('2026-02-30')).toThrow(/no such date: 2026-02-30/);
    expect(() => parseCalendarDate('1.12.2026')).toThrow(/YYYY-MM-DD/);
  });
});

describe('summary schedules', () => {
  test('daily@HH:MM and weekly@DAY-HH:MM, and nothing else', () => {
    expect(parseSummarySchedule('daily@09:00')).toEqual({ kind: 'day', hour: 9, minute: 0 });
    expect(parseSummarySchedule('weekly@mon-09:30')).toEqual({ kind: 'week', hour: 9, minute: 30, weekday: 1 });
    expect(parseSummarySchedule('weekly@SUN-23:59')).toMatchObject({ weekday: 7 });
    for (const bad of ['daily@9:00', 'daily@24:00', 'weekly@09:00', 'daily@mon-09:00', 'hourly@09:00', 'weekly@monday-09:00']) {
      expect(() => parseSummarySchedule(bad)).toThrow(ScheduleError);
    }
  });

  test('the next run is at the local time, also across a DST change', () => {
    const daily = parseSummarySchedule('daily@09:00');
    // Berlin springs forward on 2026-03-29: 09:00 is 08:00Z the day before and 07:00Z that day.
    expect(iso(nextRunAt(daily, Date.parse('2026-03-28T07:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-28T08:00:00.000Z');
    expect(iso(nextRunAt(daily, Date.parse('2026-03-28T08:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T07:00:00.000Z');
    const weekly = parseSummarySchedule('weekly@mon-09:00');
    const run = nextRunAt(weekly, Date.parse('2026-12-02T12:00:00Z'), 'Europe/Berlin');
    expect(iso(run)).toBe('2026-12-07T08:00:00.000Z');
    expect(periodForRun(weekly, run, 'Europe/Berlin').firstDay).toBe('2026-11-30');
    expect(periodForRun(daily, Date.parse('2026-03-29T07:00:00Z'), 'Europe/Berlin').firstDay).toBe('2026-03-28');
  });
});
