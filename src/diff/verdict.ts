/**
 * Which side changed. After each check the backup remembers, per folder,
 * the hash, size and mtime of every file proven equal on both sides. When a
 * later check finds a difference, that record tells which side moved away
 * from it: the side still holding the verified hash did not change.
 *
 * A source file whose content changed while its size and mtime stayed
 * exactly as verified is flagged `source-suspicious`: editors and copy tools
 * update the mtime, so this pattern points to corruption (bit rot, a failing
 * disk) or tampering on the source, which a sync would copy over the backup.
 * A `--verify` re-hash that caught a side's bytes changing under unchanged
 * size, mtime and ctime (`silentChange`) names that side outright.
 */
import type { Difference, EntryFacts, VerifiedLookup, VerifiedRecord, Verdict } from './types.js';

export async function attachVerdicts(differences: Difference[], verified: VerifiedLookup, toleranceMs: number): Promise<void> {
  for (const d of differences) {
    if (d.category !== 'missing' && d.category !== 'extra' && d.category !== 'content' && d.category !== 'type') continue;
    d.changedOn = verdictOf(d, await verified(d.path), toleranceMs);
  }
}

type SideState = 'kept' | 'changed' | 'absent' | 'unhashed';

function stateOf(facts: EntryFacts | undefined, record: VerifiedRecord): SideState {
  if (facts === undefined) return 'absent';
  if (facts.type !== 'file') return 'changed';
  if (facts.hash === undefined) return 'unhashed';
  return facts.hash === record.hash ? 'kept' : 'changed';
}

function verdictOf(d: Difference, record: VerifiedRecord | undefined, toleranceMs: number): Verdict {
  // A side that re-read other bytes than it had recorded for an untouched file is direct evidence,
  // stronger than any record: no edit leaves size, mtime and ctime as they were.
  if (d.silentChange === 'source') return 'source-suspicious';
  if (d.silentChange !== undefined) return d.silentChange;
  if (record === undefined) return 'unknown';
  const source = stateOf(d.source, record);
  const backup = stateOf(d.backup, record);
  if (source === 'unhashed' || backup === 'unhashed' || (source === 'kept' && backup === 'kept')) return 'unknown';
  if (source === 'kept') return 'backup';
  if (backup !== 'kept') return 'both';
  const s = d.source;
  if (d.category === 'content' && s !== undefined && s.size === record.size && Math.abs(s.mtime - record.mtime) <= toleranceMs) {
    return 'source-suspicious';
  }
  return 'source';
}
