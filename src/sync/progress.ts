/**
 * One self-rewriting status line on a terminal while files are copied:
 * files and bytes done and left, rate, and time left. Nothing is printed when
 * stderr is not a terminal (logs and pipes stay clean).
 */
import { formatBytes, formatClock, formatCount, plural } from '../base/units.js';
import type { SyncProgress } from './apply-types.js';

export function progressLine(p: SyncProgress, now = Date.now()): string {
  const elapsed = Math.max((now - p.startedAt) / 1000, 0.001);
  const rate = p.bytesDone / elapsed;
  const left = p.bytesTotal - p.bytesDone;
  const eta = rate > 0 ? left / rate : Number.POSITIVE_INFINITY;
  return (
    `${formatCount(p.filesDone)}/${plural(p.filesTotal, 'file')}, ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` +
    ` (${formatBytes(left)} left), ${formatBytes(rate)}/s, ETA ${formatClock(eta)}`
  );
}

export interface ProgressPrinter {
  update(p: SyncProgress): void;
  /** Clears the line (call before printing the result). */
  done(): void;
}

export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let shown = false;
  return {
    update(p) {
      // A terminal that reports 0 columns (some consoles, a resized pty) gets the usual 80.
      const width = Math.max((stream.columns || 80) - 1, 20);
      let line = progressLine(p);
      if (p.currentPath !== undefined && line.length + 3 < width) line += `  ${p.currentPath}`;
      stream.write(`\r\x1b[2K${line.slice(0, width)}`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
