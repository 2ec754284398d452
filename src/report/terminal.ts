/**
 * Longer than 300 lines: the headline, the summary table, the sync section
 * and the lists are one layout over one model, read top to bottom.
 *
 * The report for a person at a terminal: the verdict and a summary first,
 * then the differences grouped by category and by folder. Long lists are cut
 * (with how many more there are and `--all`). Colour only on a terminal,
 * never when NO_COLOR is set (https://no-color.org).
 */
import { parentOf, baseName } from '../diff/names.js';
import type { Category, Difference } from '../diff/index.js';
import { shortDeviceId } from '../identity/device-id.js';
import { REPORT_CATEGORY_ORDER, verdictOf, type BackupVerdict, type CheckReport, type PeerReport, type SyncReport } from './model.js';
import { printablePath, printableText } from '../base/printable.js';
import { listedDifferences, type ListedDifference } from './whole-folders.js';
import { formatBytes, formatCount, plural, sizesApart, withSize } from '../base/units.js';
import {
  CATEGORY_LABELS,
  CATEGORY_TITLES,
  describeDifference,
  fixedPhrase,
  GUARD_WORDS,
  nextStepWords,
  REFUSAL_WORDS,
  specialModesWords,
} from './words.js';

export interface TerminalOptions {
  color: boolean;
  /** List every difference instead of the first `limit` per category. */
  all: boolean;
  /** Lines per category when not `all` (default 20). */
  limit?: number;
}

/** Colour when writing to a terminal and NO_COLOR is unset or empty. */
export function shouldUseColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  return stream.isTTY === true;
}

type Paint = (text: string) => string;
interface Palette {
  bad: Paint;
  good: Paint;
  warn: Paint;
  dim: Paint;
  bold: Paint;
}

function palette(color: boolean): Palette {
  const sgr = (open: number, close: number): Paint => (color ? (t) => `\x1b[${open}m${t}\x1b[${close}m` : (t) => t);
  return { bad: sgr(31, 39), good: sgr(32, 39), warn: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/**
 * Appends one list to another. Never `push(...items)`: a spread passes every
 * item as an argument, and a list of a few hundred thousand differences
 * overflows the stack ("Maximum call stack size exceeded").
 */
function append(lines: string[], items: readonly string[]): void {
  for (const item of items) lines.push(item);
}

export function renderTerminal(report: CheckReport, options: TerminalOptions): string {
  const p = palette(options.color);
  const limit = options.all ? Infinity : (options.limit ?? 20);
  const lines: string[] = [];
  lines.push(headline(report, p));
  append(lines, peers(report, p));
  if (report.error !== null) {
    lines.push('', `${p.bad('error:')} ${printableText(report.error.message)}`);
    if (report.error.hint !== null) lines.push(`hint: ${printableText(report.error.hint)}`);
    return `${lines.join('\n')}\n`;
  }
  const special = specialModesWords(report);
  const notes = [
    ...modeLines(report, p),
    ...(special === undefined ? [] : ['', p.dim(`note: ${special}`)]),
    ...suspiciousLines(report, limit, p),
  ];
  if (notes.length > 0 && notes[0] !== '') notes.unshift('');
  append(lines, notes);
  if (report.sync !== null) append(lines, syncLines(report, report.sync, limit, p));
  else append(lines, [...summaryTable(report, p), ...differenceSections(report.differences, limit, p)]);
  const next = nextStepWords(report);
  if (next !== undefined) lines.push('', `hint: ${next}`);
  return `${lines.join('\n')}\n`;
}

function differenceSections(differences: readonly Difference[], limit: number, p: Palette): string[] {
  const lines: string[] = [];
  // A folder missing with everything in it is one line (report/whole-folders.ts); the titles count every difference.
  const listed = listedDifferences(differences);
  for (const category of REPORT_CATEGORY_ORDER) {
    const items = listed.filter((d) => d.category === category);
    if (items.length === 0) continue;
    const total = listed === differences ? items.length : differences.reduce((n, d) => (d.category === category ? n + 1 : n), 0);
    lines.push('');
    append(lines, section(category, items, total, limit, p));
  }
  return lines;
}

/** After a sync: what it fixed, what it refused and why, what still differs. */
function syncLines(report: CheckReport, sync: SyncReport, limit: number, p: Palette): string[] {
  const lines: string[] = ['', `${p.bold('sync')}: ${fixedPhrase(sync)}${sync.dryRun ? ' (dry run: nothing changed)' : ''}`];
  const f = sync.fixed;
  if (f.bytesReceived < f.pulledBytes)
    lines.push(p.dim(`  ${formatBytes(f.bytesReceived)} over the network; the rest resumed or copied locally`));
  if (f.versions.length > 0)
    lines.push(`  ${plural(f.versions.length, 'old copy', 'old copies')} of what was replaced or removed kept in .synker/versions/`);
  for (const stop of sync.stops)
    lines.push(
      `${p.bad(`STOPPED (${GUARD_WORDS[stop.guard] ?? stop.guard}):`)} ${printableText(stop.message)}`,
      `hint: ${printableText(stop.hint)}`,
    );
  if (sync.aborted !== null)
    lines.push(
      `${p.bad('sync stopped part-way:')} ${printableText(sync.aborted.message)}`,
      ...(sync.aborted.hint ? [`hint: ${printableText(sync.aborted.hint)}`] : []),
    );
  const refused = sync.refused.slice(0, limit);
  if (refused.length > 0) {
    lines.push('', p.bold(`Not synced on purpose (${formatCount(sync.refused.length)})`));
    for (const r of refused)
      lines.push(
        `  ${r.reason === 'suspicious' ? `${p.bad('!')} ` : ''}${printablePath(r.path)}  ${p.dim(`${REFUSAL_WORDS[r.reason] ?? r.reason}: ${printablePath(r.detail)}`)}`,
      );
    if (sync.refused.length > refused.length)
      lines.push(p.dim(`  ... and ${formatCount(sync.refused.length - refused.length)} more (use --all to list them)`));
  }
  const failed = sync.failed.slice(0, limit);
  if (failed.length > 0) {
    lines.push('', p.bold(`Failed (${formatCount(sync.failed.length)})`));
    for (const x of failed) lines.push(`  ${printablePath(x.path)}  ${p.bad(printablePath(x.message))}`);
    if (sync.failed.length > failed.length)
      lines.push(p.dim(`  ... and ${formatCount(sync.failed.length - failed.length)} more (use --all to list them)`));
  }
  if (sync.keptExtras > 0)
    lines.push(p.dim(`${plural(sync.keptExtras, 'file')} only on the backup kept (--delete moves them to .synker/versions/)`));
  const left = verdictOf(report);
  lines.push(
    '',
    left.state === 'complete'
      ? p.good(`after the sync: backup complete`)
      : p.bad(`after the sync: backup INCOMPLETE, ${withSize(`${plural(left.failing, 'difference')} left`, left.failingBytes)}`) +
          p.dim(` of ${formatCount(report.summary.failing)} found by the check`),
  );
  append(lines, differenceSections(sync.remaining.differences, limit, p));
  return lines;
}

/**
 * The verdict in one line (report/model.ts verdictOf): what `check` prints
 * first, what a dry run prints before its plan, and, after a real sync, the
 * state the sync left, counted after it. Exported for the sync command.
 */
export function verdictHeadline(report: CheckReport, color: boolean): string {
  return headline(report, palette(color));
}

function headline(report: CheckReport, p: Palette): string {
  const folder = `folder ${JSON.stringify(report.folderId)}`;
  if (report.error !== null) return `${p.bold(folder)}: ${p.bad('CHECK FAILED')}`;
  const sync = report.sync;
  const v = verdictOf(report);
  const listed = listedNote(v, p);
  if (sync !== null && !sync.dryRun) {
    if (sync.stops.length > 0) return `${p.bold(folder)}: ${p.bad('sync STOPPED by a safety guard, nothing changed')}`;
    if (sync.aborted !== null) return `${p.bold(folder)}: ${p.bad('sync INTERRUPTED')}`;
    return `${p.bold(folder)}: ${
      v.state === 'complete'
        ? p.good('synced, backup complete')
        : `${p.bad(`synced, backup INCOMPLETE: ${plural(v.failing, 'difference')} left`)} (${formatBytes(v.failingBytes)})`
    }${listed}`;
  }
  const s = report.summary;
  if (v.state === 'complete') {
    // A size-only check proves no content: say what it did compare, never "verified".
    const proof = report.settings?.sizeOnly
      ? `${plural(s.sizeMatchedFiles, 'file')} of the same size (content not compared)`
      : `${plural(s.matchedFiles, 'file')} verified`;
    return `${p.bold(folder)}: ${p.good(report.settings?.sizeOnly ? 'backup complete by size' : 'backup complete')}, ${proof}${listed}`;
  }
  return `${p.bold(folder)}: ${p.bad(`backup INCOMPLETE: ${plural(v.failing, 'difference')}`)}${withSize('', v.failingBytes)}${listed}`;
}

/** Differences listed that do not fail: files only on the backup, then metadata and names. */
function listedNote(v: BackupVerdict, p: Palette): string {
  const others = v.differences - v.failing - v.extras.count;
  const parts = [
    v.extras.count > 0 ? `${formatCount(v.extras.count)} ${CATEGORY_LABELS.extra}` : '',
    others > 0 ? `${plural(others, 'notice')}: metadata or names only` : '',
  ].filter((x) => x !== '');
  return parts.length === 0 ? '' : p.dim(`; listed, not failing: ${parts.join(', ')}`);
}

function peers(report: CheckReport, p: Palette): string[] {
  // After a sync, what the backup holds after it: the headline's counts are the sync's, not the check's before it.
  const after = report.sync !== null && !report.sync.dryRun ? (report.sync.backupTotals ?? null) : null;
  const backup = after === null ? report.backup : { ...report.backup, totals: after };
  // Two sizes that differ never read alike (base/units.ts sizesApart).
  const [sourceSize, backupSize] = sizesApart(report.source.totals?.bytes ?? 0, backup.totals?.bytes ?? 0);
  return [peerLine('source', report.source, sourceSize, p), peerLine('backup', backup, backupSize, p)];
}

function peerLine(label: string, peer: PeerReport, size: string, p: Palette): string {
  // A name the source announced itself, and a folder path: escaped like any name (base/printable.ts).
  const who = printablePath(peer.name ?? 'unknown');
  const id = peer.deviceId === null ? '' : ` ${p.dim(`(${shortDeviceId(peer.deviceId)})`)}`;
  const where = peer.location === null ? '' : ` ${printablePath(peer.location)}`;
  const totals = peer.totals === null ? '' : `: ${plural(peer.totals.files, 'file')}, ${size}`;
  const when = peer.scan === null ? '' : p.dim(`, scanned ${peer.scan.finishedAt}`);
  return `  ${label.padEnd(8)}${who}${id}${where}${totals}${when}`;
}

/** How content was compared, when not the usual way, and any silent change found. */
function modeLines(report: CheckReport, p: Palette): string[] {
  const lines: string[] = [];
  if (report.settings?.sizeOnly) {
    lines.push(
      '',
      p.warn(
        'size-only check (weaker): no file was hashed on either side; an edit that keeps the size goes unseen, and nothing counts as verified.',
      ),
    );
  } else if (report.settings?.verify) {
    lines.push('', 'verify: every file was re-read and hashed on both sides, hash caches ignored.');
  }
  // A silent change on the source alone is a suspicious source change, named by suspiciousLines():
  // only the others are counted here, so no file is warned about twice.
  const unnamed = report.differences.filter((d) => d.silentChange !== undefined && d.changedOn !== 'source-suspicious');
  const onSource = unnamed.filter((d) => d.silentChange !== 'backup').length;
  const onBackup = unnamed.filter((d) => d.silentChange !== 'source').length;
  if (unnamed.length > 0) {
    const sides = [
      onSource > 0 ? `${formatCount(onSource)} on the source` : '',
      onBackup > 0 ? `${formatCount(onBackup)} on the backup` : '',
    ].filter((x) => x !== '');
    lines.push(
      p.bad(
        `! ${plural(unnamed.length, 'file')} changed content without any change of size or dates (${sides.join(', ')}): bit rot, a failing disk, or tampering.`,
      ),
    );
  }
  return lines;
}

/** Names of suspicious source changes listed at the top when lists are cut. */
const SUSPICIOUS_NAMES = 10;

/**
 * Content changed on the source with size and mtime kept: named near the top,
 * so a cut category list cannot hide one (a sync refuses to copy them without
 * --force, and a person should look at them first).
 */
function suspiciousLines(report: CheckReport, limit: number, p: Palette): string[] {
  const suspicious = report.differences.filter((d) => d.changedOn === 'source-suspicious');
  if (suspicious.length === 0) return [];
  const them = suspicious.length === 1 ? 'it' : 'them';
  const advice = report.sync === null ? ` Look at ${them} before the backup is updated from the source:` : '';
  const lines = [
    p.bad(
      `! ${plural(suspicious.length, 'file')} changed on the source while keeping size and modification time: possible corruption or tampering on the source.${advice}`,
    ),
  ];
  const shown = Number.isFinite(limit) ? suspicious.slice(0, Math.min(limit, SUSPICIOUS_NAMES)) : suspicious;
  for (const d of shown) lines.push(`    ${pathOf(d)}`);
  if (suspicious.length > shown.length)
    lines.push(p.dim(`    ... and ${formatCount(suspicious.length - shown.length)} more (use --all to list them)`));
  return lines;
}

/** Marked "!" in the lists: a suspicious or silent change, listed first in its category. */
function flagged(d: Difference): boolean {
  return d.changedOn === 'source-suspicious' || d.silentChange !== undefined;
}

function summaryTable(report: CheckReport, p: Palette): string[] {
  const rows = REPORT_CATEGORY_ORDER.filter((c) => report.summary.byCategory[c].count > 0);
  if (rows.length === 0) return [];
  const width = rows.reduce((w, c) => Math.max(w, CATEGORY_LABELS[c].length), 0);
  return [
    '',
    ...rows.map((c) => {
      const t = report.summary.byCategory[c];
      // The same rows as the e-mail's summary: a category with nothing failing says so.
      const failing = report.differences.some((d) => d.category === c && d.failing);
      const paint = failing ? p.warn : p.dim;
      return `  ${paint(CATEGORY_LABELS[c].padEnd(width))}  ${formatCount(t.count).padStart(8)}  ${formatBytes(t.bytes).padStart(10)}${failing ? '' : p.dim('  (does not fail)')}`;
    }),
  ];
}

/** The entry's name (and where it went), escaped: a name from disk must not forge or disguise a line. */
function pathOf(d: ListedDifference): string {
  // Two names on one side are not a rename: the same notation as the e-mail.
  if (d.clash === 'within') return `${printablePath(d.path)} ≠ ${printablePath(d.otherPath!)}`;
  // Read as a rename, old name first: where the backup has it -> what the source calls it now.
  const old = d.newPath ?? (d.clash === 'case' ? d.otherPath : undefined);
  const suffix = folderSuffix(d);
  const now = printablePath(d.path) + suffix;
  return old === undefined ? now : `${printablePath(old)}${suffix} -> ${now}`;
}

/** `/` after a name that stands for a folder and what is inside it (a moved folder, a whole folder). */
function folderSuffix(d: ListedDifference): string {
  return (d.category === 'moved' && d.fileCount !== undefined) || d.wholeFolder !== undefined ? '/' : '';
}

/** What a person should know about a whole category, after its title. */
const SECTION_NOTES: Partial<Record<Category, string>> = {
  ignored:
    " - verified before, now left out by the source's .synkerignore: undo the rule on the source, or remove these files from the backup if leaving them out is meant",
};

/**
 * One category: entries grouped under their folder when a folder holds several. `items` as the lists
 * show them (a whole folder is one); `total`: the category's differences, as the summary counts them.
 */
function section(category: Category, items: ListedDifference[], total: number, limit: number, p: Palette): string[] {
  const notes = [items.every((d) => !d.failing) ? 'listed, does not fail the check' : ''];
  const folders = items.reduce((n, d) => (d.wholeFolder !== undefined ? n + 1 : n), 0);
  if (folders > 0) notes.push(`${plural(folders, 'whole folder')}, one line each (--json lists every file)`);
  const said = notes.filter((x) => x !== '').join('; ');
  const note = said !== '' ? p.dim(` - ${said}`) : (SECTION_NOTES[category] ?? '');
  const lines = [p.bold(`${CATEGORY_TITLES[category]} (${formatCount(total)})`) + note];
  // Flagged entries first, so cutting the list never hides one.
  const shown = [...items.filter(flagged), ...items.filter((d) => !flagged(d))].slice(0, limit);
  for (let i = 0; i < shown.length; ) {
    const folder = parentOf(shown[i]!.path);
    let j = i;
    while (j < shown.length && parentOf(shown[j]!.path) === folder && shown[j]!.newPath === undefined && shown[j]!.otherPath === undefined)
      j++;
    if (j - i >= 3 && folder !== '') {
      lines.push(`  ${printablePath(folder)}/`);
      for (const d of shown.slice(i, j)) lines.push(`    ${line(printablePath(baseName(d.path)) + folderSuffix(d), d, p)}`);
    } else {
      // Not grouped (the folder root, or fewer than 3): each on its own line. The whole run is written at
      // once, so a run is scanned once (one step at a time, 150,000 entries at the root took minutes).
      for (let k = i; k < Math.max(j, i + 1); k++) lines.push(`  ${line(pathOf(shown[k]!), shown[k]!, p)}`);
    }
    i = Math.max(j, i + 1);
  }
  if (items.length > shown.length) lines.push(p.dim(`  ... and ${formatCount(items.length - shown.length)} more (use --all to list them)`));
  return lines;
}

function line(path: string, d: ListedDifference, p: Palette): string {
  const detail = describeDifference(d);
  if (flagged(d)) return `${p.bad('!')} ${path}  ${p.bad(detail)}`;
  return detail === '' ? path : `${path}  ${p.dim(detail)}`;
}
