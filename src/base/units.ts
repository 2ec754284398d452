/**
 * How synker writes numbers for people: sizes, counts, plurals, durations,
 * clock times. One module, so a file's size reads the same in a check
 * report, an e-mail, a sync plan, a progress line, `synker versions` and
 * `synker status`; nothing else formats these (no local toFixed, `/ 1024`
 * or `${n} file(s)`).
 *
 * - Sizes are binary (IEC): B, KiB, MiB, GiB, TiB, PiB; one decimal below 10
 *   of a unit ("1.5 KiB", "9.9 MiB"), none from 10 up ("340 MiB").
 * - Two sizes that differ are never written alike: where rounding would make
 *   them the same text, both are written in exact bytes ("2,486 B on source,
 *   2,472 B on backup"; sizesApart).
 * - A size next to a count says nothing when it is zero ("4 differences",
 *   not "4 differences (0 B)"; withSize).
 * - Counts have thousands separators ("3,001"), also inside plurals.
 * - Durations: "850 ms", "3 s", "3.25 s", "12.5 s", "4 min 7 s", "2 h 5 min".
 * - Spans of time in words: how long ago, rounded as a person says it ("30
 *   seconds", "3 minutes", "2 days and 23 hours": formatAge), and how often,
 *   exact ("every 5 seconds", "every hour", "every 90 minutes": formatEvery).
 */

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `512 B`, `1.5 KiB`, `340 MiB`. A fraction of a byte (a rate, bytes per second) is rounded: `34 B`, never `34.50008 B`. */
export function formatBytes(bytes: number): string {
  let value = Math.round(bytes);
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${SIZE_UNITS[unit]}`;
}

/** `1,234,567 B`: the exact size, for where a rounded one would hide a difference. */
export function formatExactBytes(bytes: number): string {
  return `${formatCount(bytes)} B`;
}

/**
 * Two sizes to be read side by side (source and backup): rounded as usual,
 * but in exact bytes when they differ and would round to the same text.
 */
export function sizesApart(a: number, b: number): [string, string] {
  const [x, y] = [formatBytes(a), formatBytes(b)];
  return a !== b && x === y ? [formatExactBytes(a), formatExactBytes(b)] : [x, y];
}

/** `3 differences (2.4 KiB)`; just `4 differences` when they concern no bytes (metadata, empty files). */
export function withSize(text: string, bytes: number): string {
  return bytes > 0 ? `${text} (${formatBytes(bytes)})` : text;
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

/** `850 ms`, `3 s`, `3.25 s`, `12.5 s`, `4 min 7 s`, `2 h 5 min`. */
export function formatDuration(ms: number): string {
  // Rounded first, then split: never "1 min 60 s" or "60.0 s"; no trailing zeros ("3 s", not "3.00 s").
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${Number((ms / 1000).toFixed(ms < 9_995 ? 2 : 1))} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
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
