/** Notes when a manifest stream started and finished being read (the report's scan times). */
import type { ManifestEntry } from '../manifest/entry.js';
import { readyEntriesOf, type ReadyEntries } from '../manifest/ready-entries.js';
import type { ScanTimes } from '../report/model.js';

export class TimedStream implements AsyncIterable<ManifestEntry> {
  private started: Date | undefined;
  private finished: Date | undefined;

  constructor(private readonly inner: AsyncIterable<ManifestEntry>) {}

  // A plain iterator, not an async generator: it passes each entry on without another queued promise.
  [Symbol.asyncIterator](): AsyncIterator<ManifestEntry> {
    this.started = new Date();
    const inner = this.inner[Symbol.asyncIterator]();
    const onStep = (step: IteratorResult<ManifestEntry>): IteratorResult<ManifestEntry> => {
      if (step.done === true) this.finished ??= new Date();
      return step;
    };
    const iterator: AsyncIterator<ManifestEntry> & Partial<ReadyEntries> = {
      next: () => inner.next().then(onStep),
      return: async (value?: unknown) => (inner.return === undefined ? { done: true, value: undefined } : inner.return(value)),
    };
    // The end is always seen through next(): entries at hand can pass without it.
    const takeReady = readyEntriesOf(inner);
    if (takeReady !== undefined) iterator.takeReady = takeReady;
    return iterator;
  }

  get times(): ScanTimes | null {
    if (this.started === undefined || this.finished === undefined) return null;
    return { startedAt: this.started.toISOString(), finishedAt: this.finished.toISOString() };
  }
}
