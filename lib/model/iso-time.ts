/**
 * An ISO 8601 / RFC 3339 date-time with its offset (a time without one is a different instant on
 * each host). The fields' ranges are checked apart: `Date.parse` takes any day up to 31 in any
 * month (`2026-02-30` is read as March 2) and hour 24.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** What {@link parseIsoTime} accepts beyond a plain instant. */
export interface IsoTimeOptions {
  /**
   * Second 60 (a leap second, which RFC 3339 allows and CloudEvents' `time` therefore too): read
   * as the next second's start, since a Date cannot name it. Off, it is refused.
   * @default false
   */
  leapSecond?: boolean;
  /**
   * Seconds may be left out (`2026-12-05T10:00Z`); RFC 3339 requires them.
   * @default true
   */
  optionalSeconds?: boolean;
}

/**
 * The instant an ISO 8601 date-time with its offset names, in ms since the epoch, or undefined
 * for anything else: not that form, a calendar date that does not exist (February 30, month 13),
 * hour over 23, minute or second over 59 (60 only with `leapSecond`), an offset over 23:59. The one
 * reader of user-given times: whatever accepts one takes this rule.
 *
 * @example
 * ```ts
 * parseIsoTime('2026-12-05T10:00:00Z'); // 1796464800000
 * parseIsoTime('2026-02-30T00:00:00Z'); // undefined
 * ```
 */
export function parseIsoTime(text: unknown, options: IsoTimeOptions = {}): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  if (m[6] === undefined && options.optionalSeconds === false) return undefined;
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number);
  const second = Number(m[6] ?? 0);
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > (options.leapSecond ? 60 : 59) ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return undefined;
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(1, 4).padEnd(3, '0'));
  const time = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  time.setUTCFullYear(year, month - 1, day);
  time.setUTCHours(hour, minute, second, ms);
  const offset = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return time.getTime() - offset;
}

/** The days of `month` (1 to 12) in `year`, leap years counted. */
function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
