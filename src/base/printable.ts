/**
 * Names as every renderer (terminal, e-mail) shows them. File names and
 * symlink targets come from disk, or from the peer, and may hold control or
 * bidirectional-override characters that would forge a report line, move the
 * cursor, hide text, or make one name look like another (`gpj.exe` reversed
 * to read `exe.jpg`, an invisible zero width space): those are shown as `\u{...}` escapes, everything else
 * as it is.
 */

// Also the invisible U+200B (zero width space), U+2060 (word joiner) and U+FEFF (BOM), which make two names
// look alike; not U+200C/U+200D (ZWNJ/ZWJ), which emoji sequences and several scripts need.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/** Whether `text` holds a character the functions here escape (a name holding one is shown escaped, never as typed). */
export function hasUnprintable(text: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  const found = UNPRINTABLE.test(text);
  UNPRINTABLE.lastIndex = 0;
  return found;
}

export function printablePath(p: string): string {
  return p.replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A symlink target in quotes, escaped like a name (a quote inside stays as it is: it cannot break a line). */
export function printableTarget(target: string | undefined): string {
  return `"${printablePath(target ?? '')}"`;
}

/**
 * A message or hint, which may quote names from disk or from the peer: the
 * same escapes, but its own line breaks kept (a hint may list steps).
 */
export function printableText(text: string): string {
  return text.replace(UNPRINTABLE, (c) => (c === '\n' ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}

/** Characters of a peer's text that an error message or a log line quotes at most. */
export const QUOTE_CHARS = 64;

/**
 * A value a peer sent, quoted in an error message or a log line: escaped
 * like a name, cut to `maxChars` characters (then "..." and its full length),
 * so a peer can neither forge lines nor make one message cost megabytes.
 */
export function printableQuote(text: string, maxChars = QUOTE_CHARS): string {
  if (text.length <= maxChars) return `"${printablePath(text)}"`;
  let cut = text.slice(0, maxChars);
  // Never half a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `"${printablePath(cut)}..." (${text.length} characters)`;
}
