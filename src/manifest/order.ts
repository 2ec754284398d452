/**
 * Manifest order: paths compared component by component in UTF-8 byte order.
 *
 * UTF-8 byte order equals Unicode code point order. JavaScript's `<` compares
 * UTF-16 code units, which differs from code point order only for characters
 * at U+E000..U+FFFF versus surrogate pairs (U+10000 and up), so those units
 * are remapped. Comparing component by component is the same as comparing
 * whole paths with `/` ranked below every other character (`a/b` < `a-b`).
 */
export function comparePaths(a: string, b: string): number {
  // Equal is the common answer in a diff, and the engine's comparison is faster than this loop.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit === 0x2f) return -1; // '/' separates components: lowest of all
  if (unit < 0xd800) return unit;
  // Surrogates (astral code points) must sort after U+E000..U+FFFF.
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Byte-wise comparison of UTF-8 encodings (ties between raw names). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Manifest order for entries: NFC key first, then the raw on-disk name's bytes. */
export function compareEntries(a: { path: string; raw?: string | undefined }, b: { path: string; raw?: string | undefined }): number {
  const byKey = comparePaths(a.path, b.path);
  if (byKey !== 0) return byKey;
  return compareUtf8(a.raw ?? a.path, b.raw ?? b.path);
}
