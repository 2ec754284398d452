/**
 * The hashes the backup last verified as matching the source, per folder:
 * what "which side changed" is judged against (docs/diff.md).
 *
 * A check reads the current set while it writes the next one as matches
 * stream out of the diff, so memory stays bounded however many files the
 * folder holds. The two sets live in two namespaces of the agent state
 * (`verified.a`, `verified.b`); a pointer names the current one. Only a
 * check that ran to the end switches the pointer: an interrupted check
 * leaves the previous set in force. Paths still in dispute keep their old
 * record, so the verdict stays known until the difference is resolved.
 */
import { createHash } from 'node:crypto';
import type { Difference, EntryFactsWithPath, VerifiedRecord } from '../diff/index.js';
import type { AgentState } from '../state/agent-state.js';
import type { FolderStore } from '../state/folder-store.js';

const GENERATIONS = ['a', 'b'] as const;
type Generation = (typeof GENERATIONS)[number];
const POINTER_KEY = 'current';
/** LMDB keys are limited to ~2 KB: longer paths are stored under their hash. */
const MAX_PLAIN_KEY_BYTES = 1500;
/** Writes in flight before the diff waits for them (LMDB batches them into transactions). */
const WRITE_BATCH = 5000;

function keyOf(path: string): string {
  return Buffer.byteLength(path) <= MAX_PLAIN_KEY_BYTES ? path : `\u0001sha256:${createHash('sha256').update(path).digest('hex')}`;
}

export class VerifiedHashes {
  private readonly pointer: FolderStore<Generation>;
  private readonly current: FolderStore<VerifiedRecord>;
  private readonly next: FolderStore<VerifiedRecord>;
  private readonly nextGeneration: Generation;
  private writes: Promise<void>[] = [];
  private failure: unknown;

  private constructor(state: AgentState, folderId: string, current: Generation) {
    this.pointer = state.store<Generation>(folderId, 'verified');
    this.nextGeneration = current === 'a' ? 'b' : 'a';
    this.current = state.store<VerifiedRecord>(folderId, `verified.${current}`);
    this.next = state.store<VerifiedRecord>(folderId, `verified.${this.nextGeneration}`);
  }

  /** Opens the folder's verified set and empties the next one (left over by an interrupted check). */
  static async open(state: AgentState, folderId: string): Promise<VerifiedHashes> {
    const stored = state.store<Generation>(folderId, 'verified').get(POINTER_KEY);
    const hashes = new VerifiedHashes(state, folderId, stored === 'b' ? 'b' : 'a');
    await hashes.next.clear();
    return hashes;
  }

  /** The last verified record of a path (for the diff's `verified` option). */
  readonly lookup = (path: string): VerifiedRecord | undefined => this.current.get(keyOf(path));

  /** Records a file proven equal on both sides (for the diff's `onMatch` option). */
  readonly record = (source: EntryFactsWithPath): Promise<void> | undefined => {
    if (source.hash === undefined) return undefined;
    this.writes.push(
      this.next.put(keyOf(source.path), { hash: source.hash, size: source.size, mtime: source.mtime }).catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
    if (this.writes.length < WRITE_BATCH) return undefined;
    // Make the diff wait for this batch, so writes never pile up faster than LMDB commits them.
    const batch = Promise.all(this.writes).then(() => undefined);
    this.writes = [];
    return batch;
  };

  /**
   * The check ran to the end: keep the old records of paths still in
   * dispute, make the new set current, drop the old one.
   */
  async commit(differences: readonly Difference[]): Promise<void> {
    await Promise.all(this.writes);
    this.writes = [];
    if (this.failure !== undefined) throw this.failure;
    for (const d of differences) {
      if (d.category === 'metadata' || d.category === 'moved') continue;
      const key = keyOf(d.path);
      const old = this.current.get(key);
      if (old !== undefined && this.next.get(key) === undefined) await this.next.put(key, old);
    }
    await this.pointer.put(POINTER_KEY, this.nextGeneration);
    await this.current.clear();
  }

  /** The check failed: forget what was written of the next set. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.writes);
    this.writes = [];
    await this.next.clear();
  }
}
