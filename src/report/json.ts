/**
 * The report for scripts: the report model as JSON, unchanged (schema in
 * docs/report-schema.md). One report per line when several folders are
 * checked (JSON Lines); a single folder gives a single JSON document.
 *
 * A report of a few hundred thousand differences is tens of megabytes of
 * JSON: it is written in pieces of at most ~64 KiB (jsonPieces), never built
 * as one string, so printing it costs bounded memory beyond the model. The
 * pieces joined are exactly `JSON.stringify` of the same value.
 */
import type { CheckReport } from './model.js';

/** Pieces are flushed once they reach this many characters. */
const PIECE_CHARS = 64 * 1024;

export function renderJson(report: CheckReport): string {
  return `${JSON.stringify(report)}\n`;
}

export function renderJsonLines(reports: readonly CheckReport[]): string {
  return reports.map(renderJson).join('');
}

/** The reports as JSON Lines, in pieces (see the header): what `check --json` writes. */
export function* jsonLinesPieces(values: Iterable<unknown>): Generator<string> {
  for (const value of values) {
    yield* jsonPieces(value);
    yield '\n';
  }
}

/**
 * `JSON.stringify(value)` in pieces of about PIECE_CHARS characters: objects
 * and arrays are walked member by member (recursion only as deep as the
 * value nests, never along a list), so no list's JSON is ever one string.
 * Same rules as JSON.stringify: `toJSON` is called, members whose value is
 * undefined, a function or a symbol are left out of objects and are `null`
 * in arrays.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  const out = { text: '' };
  const v = jsonValue(value);
  if (isComposite(v)) yield* write(v, out);
  else out.text += JSON.stringify(v) ?? '';
  if (out.text !== '') yield out.text;
}

type Composite = Record<string, unknown> | unknown[];

/** What JSON.stringify would write for `value`: the result of its toJSON, if it has one. */
function jsonValue(value: unknown): unknown {
  const toJSON = (value as { toJSON?: unknown } | null | undefined)?.toJSON;
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(value) : value;
}

function isComposite(v: unknown): v is Composite {
  return typeof v === 'object' && v !== null;
}

/** Values of at most this many members (all levels) are written by one JSON.stringify: walking each is slower. */
const SMALL_NODES = 256;

/** Whether `v` has at most `budget` members, objects and arrays included, at all levels. */
function isSmall(v: Composite, budget = { left: SMALL_NODES }): boolean {
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    if (--budget.left < 0) return false;
    if (isComposite(x) && !isSmall(x, budget)) return false;
  }
  return true;
}

function* write(v: Composite, out: { text: string }): Generator<string> {
  if (isSmall(v)) {
    out.text += JSON.stringify(v);
    return;
  }
  if (Array.isArray(v)) {
    out.text += '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.text += ',';
      const value = jsonValue(v[i]);
      if (isComposite(value)) yield* write(value, out);
      else out.text += JSON.stringify(value) ?? 'null';
      if (out.text.length >= PIECE_CHARS) {
        yield out.text;
        out.text = '';
      }
    }
    out.text += ']';
    return;
  }
  out.text += '{';
  let first = true;
  for (const key of Object.keys(v)) {
    const value = jsonValue(v[key]);
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    out.text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (isComposite(value)) yield* write(value, out);
    else out.text += JSON.stringify(value);
    if (out.text.length >= PIECE_CHARS) {
      yield out.text;
      out.text = '';
    }
  }
  out.text += '}';
}
