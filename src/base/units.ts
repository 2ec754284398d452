/**
 * How synker writes numbers for people: sizes, counts, plurals, clock times.
 * One module, so a file's size reads the same in a check report, an e-mail,
 * a sync plan, a progress line and `synker versions`.
 *
 * - Sizes are binary (IEC): B, KiB, MiB, GiB, TiB, PiB; one decimal below 10
 *   of a unit ("1.5 KiB", "9.9 MiB"), none from 10 up ("340 MiB").
 * - Counts have thousands separators ("3,001"), also inside plurals.
 * - Spans of time in words: how long ago, rounded as a person says it ("30
 *   seconds", "3 minutes", "2 days and 23 hours": formatAge), and how often,
 *   exact ("every 5 seconds", "every hour", "every 90 minutes": formatEvery).
 */

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `512 B`, `1.5 KiB`, `340 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${SIZE_UNITS[unit]}`;
}

/** `3,001`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 file`, `3,001 files`, `2 entries` (with `many` given). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** `1:05:03`, `4:07`, `0:09`; `--:--` when unknown. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** How long ago, rounded as a person says it: "30 seconds", "3 minutes", "5 hours", "2 days and 23 hours". */
export function formatAge(ms: number): string {
  // Under a minute it is said in seconds: 30 s is not "1 minute".
  if (ms < 59_500) return plural(Math.max(1, Math.round(ms / 1000)), 'second');
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  const days = Math.floor(hours / 24);
  const rest = hours - days * 24;
  return rest === 0 ? plural(days, 'day') : `${plural(days, 'day')} and ${plural(rest, 'hour')}`;
}

const EVERY_UNITS: Array<[number, string]> = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
];

/**
 * How often, for "every …": the largest unit that measures it exactly ("hour",
 * "6 hours", "90 minutes", "5 seconds"), else the nearest whole seconds.
 */
export function formatEvery(ms: number): string {
  const [unit, name] = EVERY_UNITS.find(([u]) => ms >= u && ms % u === 0) ?? [1000, 'second'];
  const n = Math.max(1, Math.round(ms / unit));
  return n === 1 ? name : plural(n, name);
}
