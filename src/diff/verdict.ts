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
 *
 * Content that moved is no damage: a suspicious file whose new content is
 * the content last verified at another path of this comparison, which the
 * source no longer holds there (two names swapped, a chain of renames), is
 * an ordinary change on the source (`contentOf` names that path; movedContent).
 */
import type { Difference, EntryFacts, VerifiedLookup, VerifiedRecord, Verdict } from './types.js';

export async function attachVerdicts(differences: Difference[], verified: VerifiedLookup, toleranceMs: number): Promise<void> {
  const renamed = renamedFolders(differences);
  const extras = renamed.length === 0 ? undefined : new Map(differences.filter((d) => d.category === 'extra').map((d) => [d.path, d]));
  for (const d of differences) {
    const across = await acrossRename(d, renamed, extras, verified, toleranceMs);
    if (across !== undefined) {
      d.changedOn = across;
      continue;
    }
    if (d.category !== 'missing' && d.category !== 'extra' && d.category !== 'content' && d.category !== 'type') continue;
    d.changedOn = verdictOf(d, await verified(d.path), toleranceMs);
  }
  await movedContent(differences, verified);
}

/**
 * A source file judged `source-suspicious` from the records (not from a `--verify` re-read) whose new
 * content is exactly what was last verified at another path that no longer holds it on the source
 * (changed there too, or gone): the content moved (names swapped, a chain of renames), which bit
 * rot cannot do. It is `source`, with `contentOf` naming that path. A copy over another file (the
 * other path still holds it) stays suspicious: a disk that zeroes a file after a crash would
 * otherwise pass wherever another file of that size is zeros too. Looked up only when there is such
 * a file (rare), among these differences' records: no cost per file of the folder (docs/check.md).
 */
async function movedContent(differences: readonly Difference[], verified: VerifiedLookup): Promise<void> {
  const candidates = differences.filter(
    (d) => d.changedOn === 'source-suspicious' && d.silentChange === undefined && d.source?.hash !== undefined,
  );
  if (candidates.length === 0) return;
  const wanted = new Set(candidates.map((d) => d.source!.hash!));
  const movedFrom = new Map<string, string>();
  for (const d of differences) {
    if (!LEFT_BEHIND.has(d.category)) continue;
    const record = await verified(d.path);
    // The first path in order, so the report says the same at every check.
    if (record !== undefined && wanted.has(record.hash) && d.source?.hash !== record.hash && !movedFrom.has(record.hash))
      movedFrom.set(record.hash, d.path);
  }
  for (const d of candidates) {
    // Never d's own path: its record is not the content the source holds there now.
    const from = movedFrom.get(d.source!.hash!);
    if (from === undefined || from === d.path) continue;
    d.changedOn = 'source';
    d.contentOf = from;
  }
}

/** Differences at whose path the source may have left a verified content (unreadable, unstable: unknown). */
const LEFT_BEHIND: ReadonlySet<Difference['category']> = new Set(['missing', 'extra', 'content', 'type', 'moved']);

/** Folders the source renamed, as [source path, backup path] (a `moved` folder record). */
function renamedFolders(differences: readonly Difference[]): Array<[string, string]> {
  const folders: Array<[string, string]> = [];
  for (const d of differences) {
    if (d.category === 'moved' && d.newPath !== undefined && (d.source?.type ?? d.backup?.type) === 'dir')
      folders.push([d.path, d.newPath]);
  }
  return folders;
}

/**
 * A file the source renamed and changed at once keeps its record under the
 * backup's name: a file that differs inside a folder renamed only in case
 * (a `case` name clash with both files), and a file of a renamed folder that
 * did not go with it unchanged (`missing` under the new name, `extra` under
 * the old). Judged as a content difference against the record of the
 * backup's name, so a silent change there is `source-suspicious`, not a new
 * file copied over the good copy in the run that renames the folder. Where
 * the backup was the side renamed, the record is under the source's name.
 */
async function acrossRename(
  d: Difference,
  renamed: ReadonlyArray<[string, string]>,
  extras: ReadonlyMap<string, Difference> | undefined,
  verified: VerifiedLookup,
  toleranceMs: number,
): Promise<Verdict | undefined> {
  if (d.source?.type !== 'file') return undefined;
  if (d.category === 'name-clash' && d.clash === 'case' && d.otherPath !== undefined && d.backup?.type === 'file')
    return verdictOf({ ...d, category: 'content' }, await recordOf(verified, d.otherPath, d.path), toleranceMs);
  if (d.category !== 'missing' || extras === undefined) return undefined;
  let best: [string, string] | undefined;
  for (const folder of renamed) {
    if (d.path.startsWith(`${folder[0]}/`) && (best === undefined || folder[0].length > best[0].length)) best = folder;
  }
  if (best === undefined) return undefined;
  const backupPath = `${best[1]}${d.path.slice(best[0].length)}`;
  const extra = extras.get(backupPath);
  if (extra?.backup?.type !== 'file') return undefined;
  return verdictOf({ ...d, category: 'content', backup: extra.backup }, await recordOf(verified, backupPath, d.path), toleranceMs);
}

/** The record under the backup's name (the source renamed it), else under the source's (the backup was renamed). */
async function recordOf(verified: VerifiedLookup, backupPath: string, sourcePath: string): Promise<VerifiedRecord | undefined> {
  return (await verified(backupPath)) ?? (await verified(sourcePath));
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
