/** Plain-text tables for list commands: columns padded to their widest cell. */
import { printablePath } from '../base/printable.js';

/**
 * Every cell is escaped like a name (a folder path, a device name, an
 * address can come from a config, a peer or the disk): a cell never breaks
 * its line or sends the terminal an escape sequence.
 */
export function formatTable(header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(printablePath));
  // A reduce, never Math.max(...rows): a spread of a long list overflows the stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
