/**
 * Checks on raw JSON values shared by the config validators: what kind a
 * value is (for messages: "found a list"), list entries, and unknown keys,
 * refused with a did-you-mean suggestion because a misspelt key would
 * otherwise be silently ignored.
 */
import type { JsonPath } from './json-source.js';

export type Raw = Record<string, unknown>;

export function* arrayAt(obj: Raw, key: string, issue: (p: JsonPath, m: string) => void, at: JsonPath = []): Generator<[number, unknown]> {
  const value = obj[key];
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    issue([...at, key], `must be a list ([...]), found ${kind(value)}`);
    return;
  }
  for (let i = 0; i < value.length; i++) yield [i, value[i]];
}

export function checkKeys(obj: Raw, known: readonly string[], at: JsonPath, issue: (p: JsonPath, m: string) => void): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    issue([...at, key], `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys here: ${known.join(', ')}`);
  }
}

/** The known key within edit distance 2 of a misspelt one. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

export function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
