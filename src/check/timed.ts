/** Notes when a manifest stream started and finished being read (the report's scan times). */
import type { ManifestEntry } from '../manifest/entry.js';
import type { ScanTimes } from '../report/model.js';

export class TimedStream implements AsyncIterable<ManifestEntry> {
  private started: Date | undefined;
  private finished: Date | undefined;

  constructor(private readonly inner: AsyncIterable<ManifestEntry>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<ManifestEntry> {
    this.started = new Date();
    for await (const entry of this.inner) yield entry;
    this.finished = new Date();
  }

  get times(): ScanTimes | null {
    if (this.started === undefined || this.finished === undefined) return null;
    return { startedAt: this.started.toISOString(), finishedAt: this.finished.toISOString() };
  }
}
