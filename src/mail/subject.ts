/**
 * Subject lines of report mails: the result at a glance ("Backup of photos on
 * nas: 12 files missing (340 MiB), 3 files differ"), and the phrase for the
 * differences that the sync subject and the check process reuse.
 */
import { CATEGORIES, type Category, type Difference } from '../diff/index.js';
import type { CheckReport } from '../report/model.js';
import { formatCount, plural, withSize } from '../base/units.js';
import { backupName, folderPhrase, machineName, oneLine, type EmailContext } from './context.js';

const KIND_NOUNS = {
  file: ['file', 'files'],
  folder: ['folder', 'folders'],
  symlink: ['symlink', 'symlinks'],
  entry: ['entry', 'entries'],
} as const;
type Kind = keyof typeof KIND_NOUNS;

function kindOf(d: Difference): Kind {
  if (d.fileCount !== undefined && d.category === 'moved') return 'folder';
  const type = (d.source ?? d.backup)?.type;
  return type === 'file' ? 'file' : type === 'dir' ? 'folder' : type === 'symlink' ? 'symlink' : 'entry';
}

/** "2 files and 1 folder", "1 extra file": what a category holds, counted by kind. */
function countedNoun(differences: Difference[], category: Category, adjective = ''): string {
  const counts = new Map<Kind, number>();
  for (const d of differences) if (d.category === category) counts.set(kindOf(d), (counts.get(kindOf(d)) ?? 0) + 1);
  const parts = (Object.keys(KIND_NOUNS) as Kind[])
    .filter((k) => (counts.get(k) ?? 0) > 0)
    .map((k, i) => {
      const n = counts.get(k)!;
      return `${formatCount(n)} ${i === 0 && adjective ? `${adjective} ` : ''}${KIND_NOUNS[k][n === 1 ? 0 : 1]}`;
    });
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

const SUBJECT_PHRASE: Partial<Record<Category, (differences: Difference[], n: number) => string>> = {
  missing: (ds) => `${countedNoun(ds, 'missing')} missing`,
  content: (ds, n) => `${countedNoun(ds, 'content')} differ${n === 1 ? 's' : ''}`,
  extra: (ds) => countedNoun(ds, 'extra', 'extra'),
  type: (ds) => `${countedNoun(ds, 'type')} changed type`,
  moved: (ds) => `${countedNoun(ds, 'moved')} moved`,
  'name-clash': (_ds, n) => `${plural(n, 'name clash', 'name clashes')}`,
  unreadable: (ds) => `${countedNoun(ds, 'unreadable')} unreadable`,
  unstable: (ds) => `${countedNoun(ds, 'unstable')} changed while scanned`,
  ignored: (_ds, n) => `${plural(n, 'file')} hidden by the source's ignore rules`,
};

/** "12 files missing (340 MiB), 3 files differ, 2 extra files" — the worst three failing categories. */
export function differencePhrase(report: CheckReport): string {
  const parts: string[] = [];
  for (const category of CATEGORIES) {
    const total = report.summary.byCategory[category];
    const phrase = SUBJECT_PHRASE[category];
    if (!phrase || total.count === 0) continue;
    if (!report.differences.some((d) => d.category === category && d.failing)) continue;
    const text = phrase(report.differences, total.count);
    parts.push(parts.length === 0 ? withSize(text, total.bytes) : text);
  }
  if (parts.length === 0) return plural(report.summary.failing, 'difference');
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} and more` : parts.join(', ');
}

/** Why a check could not be done, in a few words for a subject line; the body has the whole message. */
function errorPhrase(report: CheckReport, error: NonNullable<CheckReport['error']>, ctx: EmailContext): string {
  const name = report.source.name ?? ctx.sourceNameOf?.(report.folderId);
  const source = name === undefined ? 'the source' : `the source ${machineName(name)}`;
  switch (error.code) {
    case 'E_SOURCE_UNREACHABLE':
    case 'E_SOURCE_NOT_FOUND':
      return `${source} cannot be reached`;
    case 'E_SOURCE_FAILED':
      return `${source} refused or failed`;
    // The source was serving the manifest, then went away: the body says when and how.
    case 'E_PEER_CLOSED':
      return `${source} dropped the connection`;
    case 'E_PEER_UNRESPONSIVE':
      return `${source} stopped answering`;
    case 'E_PEER_STALLED':
      return `${source} is stuck (no progress for a minute)`;
    case 'E_SOURCE_FOLDER_ABSENT':
      return `the folder is absent on ${source} (disk not mounted?)`;
    case 'E_FOLDER_ABSENT':
      return 'the backup folder is absent (disk not mounted?)';
    default:
      return oneLine(error.message, 120);
  }
}

export function reportSubject(report: CheckReport, ctx: EmailContext): string {
  const head = folderPhrase(report.folderId, backupName(report, ctx));
  if (report.error) return `${head} NOT verified: ${errorPhrase(report, report.error, ctx)}`;
  if (report.complete) return `${head} is complete`;
  return `${head}: ${differencePhrase(report)}`;
}
