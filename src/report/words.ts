/**
 * The words every renderer (terminal, e-mail) uses for the report's facts,
 * so a category or a verdict reads the same everywhere.
 */
import type { Category, Difference, Side, Verdict } from '../diff/index.js';
import type { CheckReport, SyncReport } from './model.js';
import { formatBytes, formatCount, plural, sizesApart } from '../base/units.js';
import { printablePath, printableTarget } from '../base/printable.js';
import type { ListedDifference, WholeFolder } from './whole-folders.js';

export const CATEGORY_TITLES: Record<Category, string> = {
  missing: 'Missing on backup',
  extra: 'Extra on backup',
  content: 'Content differs',
  type: 'Type changed',
  moved: 'Moved or renamed',
  'name-clash': 'Name clashes',
  unreadable: 'Unreadable',
  unstable: 'Changed while scanned',
  ignored: "Hidden by the source's ignore rules",
  metadata: 'Metadata only',
};

/** Short labels for the summary table. */
export const CATEGORY_LABELS: Record<Category, string> = {
  missing: 'missing on backup',
  extra: 'extra on backup',
  content: 'content differs',
  type: 'type changed',
  moved: 'moved/renamed',
  'name-clash': 'name clashes',
  unreadable: 'unreadable',
  unstable: 'changed while scanned',
  ignored: 'hidden by ignore rules',
  metadata: 'metadata only',
};

export const VERDICT_WORDS: Record<Verdict, string> = {
  source: 'changed on source',
  'source-suspicious': 'SUSPICIOUS: changed on source with size and mtime unchanged (possible corruption or tampering on the source)',
  backup: 'changed on backup (the backup copy was damaged or edited)',
  both: 'changed on both sides since last verified',
  unknown: 'which side changed is unknown (never verified)',
};

/** Permissions in octal with three digits at least: mode 0 reads "000", as 644 reads "644". */
function modeDigits(mode: number): string {
  return mode.toString(8).padStart(3, '0');
}

const TYPE_WORDS = { file: 'file', dir: 'folder', symlink: 'symlink', error: 'unreadable entry' } as const;

/**
 * What a whole folder (report/whole-folders.ts) holds: "whole folder, 1,204 files, 3.2 GiB"; one with
 * nothing in it "whole folder, empty"; one with only folders or links "whole folder, no files (2 sub-folders or links)".
 */
export function wholeFolderWords(folder: WholeFolder): string {
  if (folder.entries === 0) return 'whole folder, empty';
  if (folder.fileCount === 0) return `whole folder, no files (${plural(folder.entries, 'sub-folder or link', 'sub-folders or links')})`;
  return `whole folder, ${plural(folder.fileCount, 'file')}, ${formatBytes(folder.bytes)}`;
}

/** One line of detail about a difference (or a whole folder, as the lists show one), without its path. */
export function describeDifference(d: ListedDifference): string {
  const parts: string[] = [];
  const s = d.source;
  const b = d.backup;
  switch (d.category) {
    case 'missing':
    case 'extra': {
      if (d.wholeFolder !== undefined) {
        parts.push(wholeFolderWords(d.wholeFolder));
        break;
      }
      const facts = (s ?? b)!;
      parts.push(facts.type === 'file' ? formatBytes(facts.size) : TYPE_WORDS[facts.type]);
      if (d.unstorable !== undefined) parts.push(`cannot be stored on this backup: ${d.unstorable}`);
      break;
    }
    case 'content':
      if (d.changes?.includes('target'))
        parts.push(`link points to ${printableTarget(s!.target)} on source, ${printableTarget(b!.target)} on backup`);
      else if (d.changes?.includes('size')) {
        const [onSource, onBackup] = sizesApart(s!.size, b!.size);
        parts.push(`${onSource} on source, ${onBackup} on backup`);
      } else parts.push(`same size (${formatBytes(s!.size)}), different content`);
      break;
    case 'type':
      parts.push(`${TYPE_WORDS[s!.type]} on source, ${TYPE_WORDS[b!.type]} on backup`);
      if (d.unstorable !== undefined) parts.push(`cannot be stored on this backup: ${d.unstorable}`);
      break;
    case 'moved':
      parts.push(d.fileCount !== undefined ? `folder, ${plural(d.fileCount, 'file')}, ${formatBytes(d.bytes)}` : formatBytes(d.bytes));
      if (d.unstorable !== undefined) parts.push(`cannot be stored on this backup: ${d.unstorable}`);
      break;
    case 'name-clash':
      if (d.clash === 'case')
        parts.push(
          d.fileCount !== undefined ? `names differ only in case (folder, ${plural(d.fileCount, 'file')})` : 'names differ only in case',
        );
      else if (d.clash === 'normalization')
        parts.push(
          `same name in a different Unicode normalisation (NFC/NFD${d.fileCount !== undefined ? `; folder, ${plural(d.fileCount, 'file')}` : ''}); equal on macOS`,
        );
      else
        parts.push(
          `both exist on ${d.side === 'both' ? 'both sides' : `the ${d.side}`} and collide on case-insensitive file systems (macOS, Windows)`,
        );
      if (d.changes !== undefined) parts.push('content differs too');
      break;
    case 'unreadable': {
      const bad = d.side === 'backup' ? b : s;
      parts.push(`${d.side === 'both' ? 'on both sides' : `on ${d.side}`}: ${printablePath(bad?.error ?? bad?.errorCode ?? 'unreadable')}`);
      if (d.fileCount) parts.push(`${plural(d.fileCount, 'entry', 'entries')} below it not compared`);
      break;
    }
    case 'unstable':
      parts.push(`kept changing while it was hashed on ${d.side === 'both' ? 'both sides' : `the ${d.side}`}; check again later`);
      break;
    case 'ignored':
      parts.push(`${formatBytes(d.bytes)}; verified before, now hidden by the source's ignore rules`);
      break;
    case 'metadata': {
      if (d.changes?.includes('mtime'))
        parts.push(`modified ${new Date(s!.mtime).toISOString()} on source, ${new Date(b!.mtime).toISOString()} on backup`);
      if (d.changes?.includes('mode')) parts.push(`permissions ${modeDigits(s!.mode)} on source, ${modeDigits(b!.mode)} on backup`);
      break;
    }
  }
  // Direct evidence replaces the verdict's inference.
  const verdict = d.silentChange !== undefined ? silentChangeWords(d.silentChange) : verdictWords(d);
  if (verdict !== undefined) parts.push(verdict);
  return parts.join('; ');
}

/** A `--verify` re-read found other bytes than recorded for a file whose size, mtime and ctime never changed. */
export function silentChangeWords(side: Side): string {
  if (side === 'source') {
    return 'SUSPICIOUS: content changed on the source without any change of size or dates (bit rot, a failing disk, or tampering on the source); a sync would copy the damage to the backup';
  }
  if (side === 'backup')
    return 'content changed on the backup without any change of size or dates (bit rot, a failing disk, or tampering on the backup)';
  return 'content changed on both sides without any change of size or dates (bit rot, failing disks, or tampering)';
}

/** The which-side-changed verdict in words fitting the difference, or undefined when there is nothing to say. */
export function verdictWords(d: Difference): string | undefined {
  if (d.changedOn === undefined || d.changedOn === 'unknown') return undefined;
  if (d.category === 'missing' && d.changedOn === 'backup') return 'deleted from the backup since last verified';
  if (d.category === 'extra' && d.changedOn === 'source') return 'deleted on the source since last verified';
  if (d.contentOf !== undefined && d.changedOn === 'source')
    return `changed on source: now holds the content last verified at ${printablePath(d.contentOf)} (renamed or swapped)`;
  return VERDICT_WORDS[d.changedOn];
}

/** Why a sync left a file alone, in a few words (the refusal's `detail` says more). */
export const REFUSAL_WORDS: Record<string, string> = {
  suspicious: 'suspicious change on the source, not copied',
  collision: "name collides on the backup's file system",
  unreadable: 'unreadable',
  unstable: 'kept changing while scanned',
  'no-hash': 'not hashed, cannot be verified',
  'folder-in-the-way': 'a folder is in the way',
  differs: 'differs; which copy is right is unknown',
  'newer-on-source': 'newer on the source',
  'changed-on-backup': "the backup's copy changed since last verified (damaged there?); the source's is kept",
  unstorable: 'its name cannot be stored here',
};

/** Which safety guard stopped a sync. */
export const GUARD_WORDS: Record<string, string> = {
  'mass-change': 'mass change on the source',
  'source-shrank': 'the source lists far fewer files',
  'max-delete': 'more deletions than --max-delete allows',
};

/**
 * What a sync fixed, in one phrase: "12 files copied (340 MiB), 3 renamed, 1
 * moved to versions". A run that fixed nothing says whether nothing needed
 * fixing or nothing could be fixed (stopped, interrupted, every file failed).
 */
/**
 * Renames, the same way in a plan (`--dry-run`) and after a sync: counted
 * one per renamed file or folder (as the check counts its moved/renamed
 * differences), with the files they carry when that is more:
 * "2 to rename (16 files)", "2 renamed (16 files)".
 */
export function renamesPhrase(renames: number, files: number, tense: 'plan' | 'done'): string {
  const carried = files > renames ? ` (${plural(files, 'file')})` : '';
  return `${formatCount(renames)} ${tense === 'plan' ? 'to rename' : 'renamed'}${carried}`;
}

export function fixedPhrase(sync: Pick<SyncReport, 'fixed' | 'stops' | 'aborted' | 'failed' | 'complete'>): string {
  const fixed = sync.fixed;
  const parts: string[] = [];
  if (fixed.pulledFiles > 0) parts.push(`${plural(fixed.pulledFiles, 'file')} copied (${formatBytes(fixed.pulledBytes)})`);
  if (fixed.moved > 0) parts.push(renamesPhrase(fixed.renames ?? fixed.moved, fixed.moved, 'done'));
  if (fixed.created > 0)
    parts.push(`${formatCount(fixed.created)} ${fixed.created === 1 ? 'folder or link' : 'folders and links'} created`);
  if (fixed.metadataFixed > 0)
    parts.push(`${formatCount(fixed.metadataFixed)} ${fixed.metadataFixed === 1 ? 'time or permission' : 'times and permissions'} set`);
  if (fixed.deleted > 0) parts.push(`${formatCount(fixed.deleted)} removed into versions`);
  if ((fixed.emptiedFolders ?? 0) > 0) parts.push(`${plural(fixed.emptiedFolders ?? 0, 'emptied folder')} removed`);
  if (parts.length > 0) return parts.join(', ');
  const blocked = sync.stops.length > 0 || sync.aborted !== null || sync.failed.length > 0 || !sync.complete;
  return blocked ? 'nothing was fixed' : 'nothing needed fixing';
}

/**
 * What to do next, in one sentence fitting the verdict: the terminal prints it
 * as `hint: …` and the e-mail as `What to do: …`, so both say the same. None
 * when there is nothing to do (complete), and none where an error or a
 * stopped sync already gives its own hint.
 */
export function nextStepWords(report: CheckReport): string | undefined {
  const sync = report.sync;
  if (report.error !== null || (sync === null ? report.complete : sync.complete)) return undefined;
  const folder = report.folderId;
  if (sync === null) {
    const failing = report.differences.filter((d) => d.failing);
    const suspicious = failing.some((d) => d.changedOn === 'source-suspicious');
    const extras = failing.some((d) => d.category === 'extra');
    return (
      (suspicious ? 'look at the files marked SUSPICIOUS on the source first (a sync does not copy them without --force); then ' : '') +
      `synker sync ${folder} copies what the backup lacks from the source (add --dry-run to see the plan first)` +
      (extras ? '; files only on the backup stay unless you add --delete, which moves them into .synker/versions/' : '')
    );
  }
  if (sync.stops.length > 0 || sync.aborted !== null) return undefined;
  if (sync.dryRun) return `synker sync ${folder} without --dry-run does what is listed above`;
  if (sync.failed.length > 0) return `synker sync ${folder} tries the files that failed again`;
  return undefined;
}

/**
 * Source entries whose setuid, setgid or sticky bits no sync or restore
 * carries over (base/mode-bits.ts): said in every report, so a backup that
 * lacks them is not a surprise. Undefined when there are none.
 */
export function specialModesWords(report: Pick<CheckReport, 'summary'>): string | undefined {
  const special = report.summary.specialModes;
  if (special === undefined || special.count === 0) return undefined;
  const shown = special.examples.map((p) => printablePath(p)).join(', ');
  const more = special.count > special.examples.length ? ', …' : '';
  return `${plural(special.count, 'file or folder', 'files or folders')} on the source ${special.count === 1 ? 'has' : 'have'} setuid, setgid or sticky bits, which synker never copies (${shown}${more}); the backup has the rest of each mode.`;
}
