/** Comparing two entries known to be at the same path. */
import { hasFlag, type ManifestEntry } from '../manifest/entry.js';
import type { Change, EntryFacts, Side } from './types.js';

export function factsOf(entry: ManifestEntry): EntryFacts {
  const facts: EntryFacts = { type: entry.type, size: entry.size, mtime: entry.mtime, mode: entry.mode };
  if (entry.hash !== undefined) facts.hash = entry.hash;
  if (entry.target !== undefined) facts.target = entry.target;
  if (entry.raw !== undefined) facts.raw = entry.raw;
  if (entry.errorCode !== undefined) facts.errorCode = entry.errorCode;
  if (entry.error !== undefined) facts.error = entry.error;
  return facts;
}

/** The side(s) whose entry carries the `silent-change` flag, if any. */
export function silentSide(s: ManifestEntry, b: ManifestEntry): Side | undefined {
  const source = hasFlag(s, 'silent-change');
  const backup = hasFlag(b, 'silent-change');
  return source ? (backup ? 'both' : 'source') : backup ? 'backup' : undefined;
}

export function isUnstable(entry: ManifestEntry): boolean {
  return entry.type === 'file' && hasFlag(entry, 'unstable');
}

/**
 * Content changes between two entries of the same type: for files the hash
 * when both sides have one, else only the size (a size-only check cannot see
 * an edit that keeps the size); for symlinks the target. Folders have no content.
 */
export function contentChanges(a: EntryFacts, b: EntryFacts): Change[] {
  const changes: Change[] = [];
  if (a.type === 'file') {
    if (a.size !== b.size) changes.push('size');
    if (a.hash !== undefined && b.hash !== undefined && a.hash !== b.hash) changes.push('hash');
  } else if (a.type === 'symlink') {
    if (a.target !== b.target) changes.push('target');
  }
  return changes;
}

/** True when both sides' hashes prove the two files equal. */
export function provenEqual(a: EntryFacts, b: EntryFacts): boolean {
  return a.type === 'file' && b.type === 'file' && a.hash !== undefined && a.hash === b.hash && a.size === b.size;
}

/**
 * Same content as far as the manifests can tell, for pairing entries under a
 * moved folder: files need equal hashes (or, unhashed, equal sizes), symlinks
 * equal targets, folders only the type.
 */
export function sameContent(a: EntryFacts, b: EntryFacts): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file') {
    if (a.size !== b.size) return false;
    return a.hash === undefined || b.hash === undefined ? a.size === 0 : a.hash === b.hash;
  }
  if (a.type === 'symlink') return a.target === b.target;
  return a.type === 'dir';
}
