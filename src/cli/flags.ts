/** Flag values shared by several commands, refused with words that say what to write. */
import { parseDuration } from '../base/duration.js';
import { UsageError } from '../base/errors.js';

export function durationFlag(flag: string, value: string, allowZero = false): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new UsageError(`${flag} ${value} is not a duration`, 'write it like 500ms, 30s or 2m');
  }
  if (ms < 0 || (!allowZero && ms === 0))
    throw new UsageError(`${flag} must be ${allowZero ? 'zero or more' : 'more than zero'}, not ${value}`);
  return ms;
}

export function jobsFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs must be a whole number from 1 to 256, not ${value}`);
  return n;
}

/**
 * A path as the user typed it, with `/` between names: on Windows a
 * backslash is a separator too (`.\2024`, `..\media\clip.bin`,
 * `media\clip.bin`), as every Windows program takes it; elsewhere it is part
 * of a name, and manifest paths refuse it anyway.
 */
export function typedPath(typed: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? typed.replaceAll('\\', '/') : typed;
}
