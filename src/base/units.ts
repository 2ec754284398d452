/**
 * How synker writes numbers for people: sizes, counts, plurals, clock times.
 * One module, so a file's size reads the same in a check report, an e-mail,
 * a sync plan, a progress line and `synker versions`.
 *
 * - Sizes are binary (IEC): B, KiB, MiB, GiB, TiB, PiB; one decimal below 10
 *   of a unit ("1.5 KiB", "9.9 MiB"), none from 10 up ("340 MiB").
 * - Counts have thousands separators ("3,001"), also inside plurals.
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
