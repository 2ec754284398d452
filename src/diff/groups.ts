/**
 * Reads a sorted manifest stream one NFC key at a time. Two entries share a
 * key only when a folder holds two raw names that normalise alike. Refuses a
 * stream that is out of order: a merge-join over unsorted input would report
 * nonsense, so a buggy or hostile peer gets an error instead.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { compareEntries } from '../manifest/order.js';
import { readyEntriesOf } from '../manifest/ready-entries.js';
import { DiffError } from './errors.js';

/** tryNext(): the answer needs an await. */
export const PENDING = Symbol('pending');

export class GroupReader {
  private readonly iterator: AsyncIterator<ManifestEntry>;
  private readonly takeReady: (() => ManifestEntry | undefined) | undefined;
  private lookahead: ManifestEntry | undefined;
  /** A group begun by tryNext() whose end is not at hand yet. */
  private partial: ManifestEntry[] | undefined;
  /** An entry at hand that breaks the order: left for pull() to refuse, as it refuses any other. */
  private outOfOrder: ManifestEntry | undefined;
  private previous: ManifestEntry | undefined;
  private done = false;

  constructor(
    entries: AsyncIterable<ManifestEntry>,
    private readonly side: 'source' | 'backup',
  ) {
    this.iterator = entries[Symbol.asyncIterator]();
    this.takeReady = readyEntriesOf(this.iterator);
  }

  /**
   * The next run of entries with one NFC key, or undefined at the end; PENDING
   * when that cannot be told without awaiting (then call next()). Most groups
   * are at hand: the diff then pays no promise per entry.
   */
  tryNext(): ManifestEntry[] | typeof PENDING {
    let group = this.partial;
    if (group === undefined) {
      const first = this.takeAtHand();
      if (first === undefined) return PENDING;
      group = this.partial = [first];
    }
    for (;;) {
      const entry = this.takeAtHand();
      if (entry === undefined) return PENDING;
      if (entry.path !== group[0]!.path) {
        this.lookahead = entry;
        this.partial = undefined;
        return group;
      }
      group.push(entry);
    }
  }

  /** The next run of entries with one NFC key, or undefined at the end. */
  async next(): Promise<ManifestEntry[] | undefined> {
    for (;;) {
      const group = this.tryNext();
      if (group !== PENDING) return group;
      const entry = await this.pull();
      if (entry === undefined) {
        const last = this.partial;
        this.partial = undefined;
        return last;
      }
      // tryNext() takes it first: it continues the partial group or ends it.
      this.lookahead = entry;
    }
  }

  /** The entry put back at the end of a group, else one already at hand. */
  private takeAtHand(): ManifestEntry | undefined {
    const entry = this.lookahead;
    if (entry === undefined) return this.pullReady();
    this.lookahead = undefined;
    return entry;
  }

  /** An entry already at hand and in order, without awaiting; undefined otherwise. */
  private pullReady(): ManifestEntry | undefined {
    if (this.done || this.takeReady === undefined || this.outOfOrder !== undefined) return undefined;
    const entry = this.takeReady();
    if (entry === undefined) return undefined;
    if (this.previous !== undefined && compareEntries(this.previous, entry) >= 0) {
      this.outOfOrder = entry;
      return undefined;
    }
    this.previous = entry;
    return entry;
  }

  private async pull(): Promise<ManifestEntry | undefined> {
    if (this.done) return undefined;
    let entry = this.outOfOrder;
    this.outOfOrder = undefined;
    if (entry === undefined) {
      const step = await this.iterator.next();
      if (step.done === true) {
        this.done = true;
        return undefined;
      }
      entry = step.value;
    }
    if (this.previous !== undefined && compareEntries(this.previous, entry) >= 0) {
      await this.iterator.return?.();
      this.done = true;
      throw new DiffError(
        'E_DIFF_ORDER',
        `the ${this.side}'s manifest is not in manifest order: "${entry.path}" came after "${this.previous.path}"`,
        { hint: `the ${this.side} runs an incompatible or faulty synker; update it to this version and check again` },
      );
    }
    this.previous = entry;
    return entry;
  }

  /** Stops the underlying stream early (on error elsewhere). */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }
}
