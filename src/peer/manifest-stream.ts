/**
 * The client's view of one manifest request: an async iterable of entries
 * that checks order and the end marker's totals, and throws instead of
 * ending normally if the manifest is not complete. Decoded batches wait in a
 * small queue; above its high-water mark the socket stops being read, so
 * memory stays bounded however slow the consumer.
 */
import type { FolderRole } from '../config/types.js';
import type { SynkerError } from '../base/errors.js';
import type { ManifestEntry } from '../manifest/entry.js';
import { compareEntries } from '../manifest/order.js';
import { printableQuote } from '../base/printable.js';
import type { ReadyEntries } from '../manifest/ready-entries.js';
import {
  LIMITS,
  ProtocolError,
  RECEIVE_HIGH_WATER_BATCHES,
  RECEIVE_LOW_WATER_BATCHES,
  addToTotals,
  diffTotals,
  emptyTotals,
  type ManifestTotals,
} from '../protocol/index.js';
import { formatCount } from '../base/units.js';

export interface ManifestInfo {
  folder: string;
  /** The folder's role on the peer. */
  role: FolderRole;
  /** The lines of the peer's `.synkerignore` (gitignore syntax; join with '\n' for the scanner's extraIgnore). */
  ignoreRules: string[];
  /** Whether the peer's entries carry real POSIX permission bits (false from Windows). */
  modes: boolean;
}

export interface ManifestStream extends AsyncIterable<ManifestEntry> {
  readonly folder: string;
  /** Resolves when the peer starts the manifest; rejects like the iteration. */
  readonly info: Promise<ManifestInfo>;
  /** Resolves once the end marker arrived and matched what was received. */
  readonly totals: Promise<ManifestTotals>;
  /**
   * When that end marker arrived: the peer's scan of the folder had finished then (its own time,
   * not when a reader got to the last entry). Undefined before, and when the stream failed.
   */
  readonly endedAt?: Date | undefined;
  /** When the manifest was asked for: the peer's scan started then. */
  readonly requestedAt?: Date | undefined;
}

/** What the stream needs from its session. */
export interface StreamChannel {
  peerLabel: string;
  pauseReading(): void;
  resumeReading(): void;
  cancel(req: number): void;
  /** A protocol violation by the peer: ends the whole session. */
  fail(error: ProtocolError): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers may never look at it: no unhandled rejection for that.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class ClientManifestStream implements ManifestStream {
  private readonly infoDeferred = deferred<ManifestInfo>();
  private readonly totalsDeferred = deferred<ManifestTotals>();
  private readonly doneDeferred = deferred<void>();
  private readonly queue: ManifestEntry[][] = [];
  private current: ManifestEntry[] = [];
  private index = 0;
  private readonly received = emptyTotals();
  private last: ManifestEntry | undefined;
  private state: 'waiting' | 'begun' | 'ended' | 'failed' | 'cancelling' = 'waiting';
  private error: unknown;
  private wake: (() => void) | undefined;
  private iterating = false;
  endedAt: Date | undefined;
  readonly requestedAt = new Date();

  constructor(
    readonly req: number,
    readonly folder: string,
    private readonly channel: StreamChannel,
  ) {}

  get info(): Promise<ManifestInfo> {
    return this.infoDeferred.promise;
  }

  get totals(): Promise<ManifestTotals> {
    return this.totalsDeferred.promise;
  }

  /** Settles when the request is over (any outcome): the session may send the next one. */
  get done(): Promise<void> {
    return this.doneDeferred.promise;
  }

  get finished(): boolean {
    return this.state === 'ended' || this.state === 'failed';
  }

  // --- fed by the session -------------------------------------------------

  onBegin(folder: string, role: FolderRole, ignoreRules: string[], modes = true): void {
    if (this.state === 'cancelling') return;
    if (this.state !== 'waiting') {
      this.channel.fail(new ProtocolError('E_UNEXPECTED_MESSAGE', `${this.channel.peerLabel} started manifest ${this.req} twice`));
      return;
    }
    if (folder !== this.folder) {
      this.channel.fail(
        new ProtocolError(
          'E_UNEXPECTED_MESSAGE',
          `${this.channel.peerLabel} answered the request for "${this.folder}" with folder ${printableQuote(folder)}`,
        ),
      );
      return;
    }
    this.state = 'begun';
    this.infoDeferred.resolve({ folder, role, ignoreRules, modes });
  }

  onEntries(entries: ManifestEntry[]): void {
    if (this.state === 'cancelling') return;
    if (this.state !== 'begun') {
      this.channel.fail(
        new ProtocolError('E_UNEXPECTED_MESSAGE', `${this.channel.peerLabel} sent entries for manifest ${this.req} outside of it`),
      );
      return;
    }
    let last = this.last;
    for (const entry of entries) {
      if (last !== undefined && compareEntries(last, entry) >= 0) {
        this.channel.fail(
          new ProtocolError(
            'E_ORDER',
            `${this.channel.peerLabel} sent ${printableQuote(entry.path)} after ${printableQuote(last.path)}: the manifest is out of order or repeats an entry`,
          ),
        );
        return;
      }
      last = entry;
      addToTotals(this.received, entry);
    }
    this.last = last;
    if (this.received.count > LIMITS.manifestEntries) {
      this.channel.fail(
        new ProtocolError('E_LIMIT', `${this.channel.peerLabel} sent more than ${formatCount(LIMITS.manifestEntries)} entries`),
      );
      return;
    }
    this.queue.push(entries);
    if (this.queue.length >= RECEIVE_HIGH_WATER_BATCHES) this.channel.pauseReading();
    this.notify();
  }

  onEnd(announced: ManifestTotals): void {
    if (this.state === 'cancelling') {
      this.settle('ended');
      return;
    }
    if (this.state !== 'begun') {
      this.channel.fail(
        new ProtocolError('E_UNEXPECTED_MESSAGE', `${this.channel.peerLabel} ended manifest ${this.req} before starting it`),
      );
      return;
    }
    const difference = diffTotals(announced, this.received);
    if (difference !== undefined) {
      this.channel.fail(
        new ProtocolError(
          'E_TOTALS_MISMATCH',
          `the manifest of "${this.folder}" from ${this.channel.peerLabel} is incomplete or inconsistent (${difference})`,
        ),
      );
      return;
    }
    this.endedAt = new Date();
    this.totalsDeferred.resolve({ ...this.received });
    this.settle('ended');
  }

  /** The request failed (error frame with its req, or the session ended). */
  onError(error: SynkerError | unknown): void {
    if (this.finished) return;
    if (this.state === 'cancelling') {
      this.settle('ended');
      return;
    }
    this.error = error;
    this.infoDeferred.reject(error);
    this.totalsDeferred.reject(error);
    this.settle('failed');
  }

  private settle(state: 'ended' | 'failed'): void {
    this.state = state;
    this.doneDeferred.resolve();
    this.channel.resumeReading();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  // --- consumed by the caller ----------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<ManifestEntry> {
    if (this.iterating) throw new TypeError('a manifest stream can be iterated only once');
    this.iterating = true;
    const iterator: AsyncIterator<ManifestEntry> & ReadyEntries = {
      next: () => this.next(),
      takeReady: () => this.takeReady(),
      return: async () => {
        this.stop();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** The next received entry, if one is at hand (received batches are never empty). */
  private takeReady(): ManifestEntry | undefined {
    if (this.index < this.current.length) return this.current[this.index++];
    const batch = this.queue.shift();
    if (batch === undefined) return undefined;
    this.current = batch;
    this.index = 0;
    if (this.queue.length <= RECEIVE_LOW_WATER_BATCHES) this.channel.resumeReading();
    return this.current[this.index++];
  }

  private async next(): Promise<IteratorResult<ManifestEntry>> {
    for (;;) {
      const ready = this.takeReady();
      if (ready !== undefined) return { done: false, value: ready };
      this.current = [];
      this.index = 0;
      if (this.state === 'ended') return { done: true, value: undefined };
      if (this.state === 'failed') throw this.error;
      if (this.state === 'cancelling') return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The consumer stopped early: cancel on the wire and drop what still arrives. */
  private stop(): void {
    this.queue.length = 0;
    this.current = [];
    if (this.finished || this.state === 'cancelling') return;
    this.state = 'cancelling';
    const cancelled = new Error('the manifest request was cancelled');
    this.infoDeferred.reject(cancelled);
    this.totalsDeferred.reject(cancelled);
    this.channel.cancel(this.req);
    this.channel.resumeReading();
  }
}
