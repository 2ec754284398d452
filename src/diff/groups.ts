/**
 * Reads a sorted manifest stream one NFC key at a time. Two entries share a
 * key only when a folder holds two raw names that normalise alike. Refuses a
 * stream that is out of order: a merge-join over unsorted input would report
 * nonsense, so a buggy or hostile peer gets an error instead. Refuses too an
 * entry listed below one that is not a folder (`l/pwned` after a symlink or
 * a file `l`): no file system holds that, and a sync acting on it would
 * write through the symlink or replace the file.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { compareEntries } from '../manifest/order.js';
import { readyEntriesOf } from '../manifest/ready-entries.js';
import { DiffError } from './errors.js';
import { printablePath } from '../base/printable.js';

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
  /** The listed ancestors of the last entry, and itself: whether each is a folder (parentIsFolder). */
  private readonly ancestors: Array<{ path: string; dir: boolean; type: ManifestEntry['type'] }> = [];
  /** An entry pullReady() set aside for being below a non-folder: pull() refuses it. */
  private badParent: ManifestEntry | undefined;
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
    if (!this.parentIsFolder(entry)) {
      this.outOfOrder = this.badParent = entry;
      return undefined;
    }
    this.previous = entry;
    return entry;
  }

  /**
   * Whether the nearest listed ancestor of `entry` (if any) is a folder. The
   * stream is in manifest order, where a folder's entries follow it, so the
   * ancestors of the last entry are a stack. Called once per entry, in order.
   */
  private parentIsFolder(entry: ManifestEntry): boolean {
    const p = entry.path;
    const stack = this.ancestors;
    let top = stack[stack.length - 1];
    while (top !== undefined && top.path !== p && !(p.startsWith(top.path) && p.charCodeAt(top.path.length) === 0x2f)) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (top !== undefined && top.path === p) {
      // Two raw names of one key (a name clash within a folder): a folder if either is.
      top.dir ||= entry.type === 'dir';
      return true;
    }
    if (top !== undefined && !top.dir) return false;
    stack.push({ path: p, dir: entry.type === 'dir', type: entry.type });
    return true;
  }

  private async pull(): Promise<ManifestEntry | undefined> {
    if (this.done) return undefined;
    let entry = this.outOfOrder;
    const setAside = entry !== undefined;
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
        `the ${this.side}'s manifest is not in manifest order: "${printablePath(entry.path)}" came after "${printablePath(this.previous.path)}"`,
        { hint: `the ${this.side} runs an incompatible or faulty synker; update it to this version and check again` },
      );
    }
    // An entry at hand that pullReady() set aside was already tested.
    if (setAside ? this.badParent === entry : !this.parentIsFolder(entry)) {
      await this.iterator.return?.();
      this.done = true;
      const parent = this.ancestors[this.ancestors.length - 1]!;
      throw new DiffError(
        'E_DIFF_PARENT',
        `the ${this.side}'s manifest lists "${printablePath(entry.path)}" inside "${printablePath(parent.path)}", which it lists as a ${parent.type === 'symlink' ? 'symlink' : parent.type === 'file' ? 'file' : 'non-folder'}: no file system holds that`,
        { hint: `the ${this.side} runs a faulty or hostile synker; nothing was compared or changed` },
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
