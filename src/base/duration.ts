/**
 * Durations on the command line and in the config: `500ms`, `3s`, `2m`, `1h`,
 * `3d`, or plain seconds (`30`, `1.5`). Writing one for people is units.ts's
 * formatDuration.
 */
import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new UsageError(`invalid duration ${input}`);
    return Math.round(input * 1000);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!match) {
    throw new UsageError(`"${input}" is not a duration`, 'Use a number of seconds or a value like 500ms, 3s, 2m, 1h, 3d.');
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's']!);
}
