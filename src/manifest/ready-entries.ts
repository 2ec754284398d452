/**
 * An entry stream whose iterator can also hand over what it already holds
 * without a promise per entry. A consumer reading a million entries one
 * `await` at a time spends more on promises than on the entries; with
 * takeReady() it awaits next() only when nothing is at hand.
 */
import type { ManifestEntry } from './entry.js';

export interface ReadyEntries {
  /** The next entry if it is at hand; undefined when next() must be awaited (also at the end). */
  takeReady(): ManifestEntry | undefined;
}

/** The iterator's takeReady, bound, if it has one. */
export function readyEntriesOf(iterator: AsyncIterator<ManifestEntry>): (() => ManifestEntry | undefined) | undefined {
  const ready = (iterator as Partial<ReadyEntries>).takeReady;
  return typeof ready === 'function' ? ready.bind(iterator) : undefined;
}
