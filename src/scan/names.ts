/**
 * File names as the manifest carries them.
 *
 * Directory listings are read as bytes. A name that is valid UTF-8 becomes a
 * comparison key in Unicode NFC (the raw name is kept when it differs). A name
 * that is not valid UTF-8, or that contains a backslash (peers treat
 * backslash paths as hostile), cannot travel as a path: it becomes an error
 * entry whose path is the name in an escaped, lossless form (see
 * escapeName). docs/manifest.md describes the scheme.
 */
import { windowsNameProblem } from '../manifest/storable.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type DecodedName = { ok: true; name: string } | { ok: false; escaped: string; reason: 'not-utf8' | 'backslash' };

/** Decode one directory entry name read as bytes. */
export function decodeName(bytes: Buffer): DecodedName {
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    return { ok: false, escaped: escapeName(bytes), reason: 'not-utf8' };
  }
  if (name.includes('\\')) return { ok: false, escaped: escapeName(bytes), reason: 'backslash' };
  return { ok: true, name };
}

/**
 * Lossless escaped form of a name: every byte that is not part of a valid
 * UTF-8 sequence, every `%` and every `\` is written `%XX` (two uppercase hex
 * digits); everything else stays as it is. unescapeName reverses it exactly.
 */
export function escapeName(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes, i);
    if (len === 0) {
      out += percent(bytes[i]!);
      i += 1;
      continue;
    }
    const b = bytes[i]!;
    if (len === 1 && (b === 0x25 || b === 0x5c)) out += percent(b);
    else out += bytes.toString('utf8', i, i + len);
    i += len;
  }
  return out;
}

/** The bytes an escaped name stands for. */
export function unescapeName(escaped: string): Buffer {
  const parts: Buffer[] = [];
  let literal = '';
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i]!;
    if (c === '%' && /^[0-9A-F]{2}$/.test(escaped.slice(i + 1, i + 3))) {
      if (literal) parts.push(Buffer.from(literal, 'utf8'));
      literal = '';
      parts.push(Buffer.from([parseInt(escaped.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else {
      literal += c;
    }
  }
  if (literal) parts.push(Buffer.from(literal, 'utf8'));
  return Buffer.concat(parts);
}

function percent(byte: number): string {
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Length of the valid UTF-8 sequence starting at i, or 0 when it is not one. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let len: number;
  let min: number;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    min = 0x10000;
  } else return 0;
  if (i + len > b.length) return 0;
  let cp = c & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const cc = b[i + k]!;
    if ((cc & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/**
 * True when a single name (not a path) cannot be created on Windows
 * (manifest/storable.ts has the rule): the scan flags it `windows-name`.
 */
export function isWindowsUnsafeName(name: string): boolean {
  return windowsNameProblem(name) !== undefined;
}
