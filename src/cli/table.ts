/** Plain-text tables for list commands: columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  // A reduce, never Math.max(...rows): a spread of a long list overflows the stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
