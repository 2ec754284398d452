/**
 * How close two modification times must be to count as equal.
 *
 * File systems keep mtimes at different precisions: FAT keeps 2 s, so a
 * file copied to a FAT/exFAT-formatted USB disk comes back up to 2 s off;
 * HFS+, ext3 and many NAS shares keep whole seconds. The automatic rule
 * looks at the evidence in the manifests themselves: a side whose every file
 * mtime is a multiple of 2 s is treated as FAT-like (tolerance 2 s), a side
 * whose every file mtime is a whole second as second-precision (1 s),
 * otherwise times must match to the millisecond. Either side can set the
 * tolerance; the larger wins. One file with a finer time is enough to rule
 * a side out, so a normal disk is recognised within its first few files.
 *
 * The rule is only known at the end of both streams, so mtime-only
 * differences small enough to fall within 2 s wait in `pending` until then.
 * Once both sides have shown millisecond times they are decided at once and
 * nothing more waits: memory stays bounded by the number of differences,
 * except on FAT-like disks where it grows with the files within 2 s.
 */
import type { DiffResult } from './types.js';

export const FAT_TOLERANCE_MS = 2000;
const SECOND_MS = 1000;

class SidePrecision {
  files = 0;
  granularity = FAT_TOLERANCE_MS;

  observe(mtime: number): void {
    this.files++;
    if (this.granularity === FAT_TOLERANCE_MS && mtime % FAT_TOLERANCE_MS !== 0) this.granularity = SECOND_MS;
    if (this.granularity === SECOND_MS && mtime % SECOND_MS !== 0) this.granularity = 0;
  }

  get tolerance(): number {
    return this.files === 0 ? 0 : this.granularity;
  }
}

export class MtimeTolerance {
  private readonly source = new SidePrecision();
  private readonly backup = new SidePrecision();

  constructor(private readonly configured: number | 'auto') {}

  observe(side: 'source' | 'backup', mtime: number): void {
    (side === 'source' ? this.source : this.backup).observe(mtime);
  }

  /** The tolerance, when it can no longer change; undefined while it still can. */
  get decided(): number | undefined {
    if (this.configured !== 'auto') return this.configured;
    if (this.source.files > 0 && this.backup.files > 0 && this.source.granularity === 0 && this.backup.granularity === 0) return 0;
    return undefined;
  }

  /** Whether an mtime gap of `deltaMs` may yet turn out to be within tolerance. */
  mayTolerate(deltaMs: number): boolean {
    const decided = this.decided;
    return decided === undefined ? deltaMs <= FAT_TOLERANCE_MS : deltaMs <= decided;
  }

  /** The final tolerance, once both streams have ended. */
  final(): { ms: number; reason: DiffResult['mtimeToleranceReason'] } {
    if (this.configured !== 'auto') return { ms: this.configured, reason: 'configured' };
    const ms = Math.max(this.source.tolerance, this.backup.tolerance);
    return { ms, reason: ms === FAT_TOLERANCE_MS ? 'auto-fat' : ms === SECOND_MS ? 'auto-seconds' : 'auto-exact' };
  }
}
