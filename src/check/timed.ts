/**
 * The report's scan times of one side: when its manifest stream started
 * being read, and when that side finished its scan. The finish is the
 * side's own (`own`: the source's end marker arriving, the local scan
 * thread's end), not when the diff read the last entry: a merge-join reads
 * both sides' ends at the same moment, which made the two identical.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { readyEntriesOf, type ReadyEntries } from '../manifest/ready-entries.js';
import type { ScanTimes } from '../report/model.js';

export class TimedStream implements AsyncIterable<ManifestEntry> {
  private started: Date | undefined;
  private finished: Date | undefined;

  constructor(
    private readonly inner: AsyncIterable<ManifestEntry>,
    /** When the side itself started and finished its scan, where it says (read once the stream is done). */
    private readonly own: () => { startedAt?: Date | undefined; finishedAt?: Date | undefined } = () => ({}),
  ) {}

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
    const own = this.own();
    const started = own.startedAt !== undefined && own.startedAt < this.started ? own.startedAt : this.started;
    // Never after the reader saw the end, nor before the start.
    const end = own.finishedAt !== undefined && own.finishedAt < this.finished ? own.finishedAt : this.finished;
    const finished = new Date(Math.max(end.getTime(), started.getTime()));
    return { startedAt: started.toISOString(), finishedAt: finished.toISOString() };
  }
}
