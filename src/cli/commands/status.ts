/**
 * `synker status [--json]`: per folder, its role, its peer(s), the last
 * scheduled check and the last check or sync that verified the backup
 * (scheduled or run by hand: `lastVerified.by` says who), when the next
 * check is due, and how many e-mails wait in the outbox.
 * Exit code: 0 every backup verified and complete, 1 something needs
 * attention (differences, not verified, a folder absent, mail waiting), 2 error.
 */
import type { Command } from 'commander';
import { VERIFIED_BY_WORDS, type CheckResultSummary } from '../../schedule/state.js';
import { alertStands, collectStatus, needsAttention, type BackupStatus, type FolderStatus } from '../../schedule/status.js';
import { printablePath, printableText } from '../../base/printable.js';
import { withCliContext } from '../context.js';
import { printAndOpen } from '../open-page.js';
import { addExamples } from '../help.js';
import { EXIT, action } from '../run.js';
import { formatTable } from '../table.js';
import { formatAge, plural } from '../../base/units.js';

function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function resultWords(r: CheckResultSummary | null, withWho = false): string {
  if (!r) return 'never';
  const word = r.status === 'complete' ? 'complete' : r.status === 'differences' ? r.summary : `failed: ${r.summary}`;
  // Records from before synker said who ran a check were all the schedule's.
  const who = withWho ? ` (${r.by === undefined ? 'scheduled' : VERIFIED_BY_WORDS[r.by]})` : '';
  return `${when(r.at)}: ${word}${who}`;
}

/** A source folder's last verification by any of its backups, and by which ("complete (nas)"). */
function latestByBackups(f: FolderStatus): string {
  // Several backups: one of them beside the folder's verdict (the worst of theirs) would contradict it; each has its line.
  if (f.backups.length > 1) return `${f.backups.length} backups: one line each below`;
  const latest = f.backups.find((b) => b.lastVerified !== null);
  if (latest === undefined) return f.backups.length === 0 ? 'no backup reported yet' : 'never';
  const r = latest.lastVerified!;
  return `${when(r.at)}: ${r.status === 'complete' ? 'complete' : printableText(r.summary)} (${printablePath(latest.device.name)})`;
}

/** "not verified complete since 2026-12-07 14:02 UTC, last complete 3 days ago" / "…, never complete"; '' when complete. */
export function sinceLine(
  item: { verdict: FolderStatus['verdict']; notCompleteSince: string | null; lastCompleteAt: string | null },
  now: number,
): string {
  if (item.verdict === 'complete' || item.notCompleteSince === null) return '';
  const last = item.lastCompleteAt === null ? 'never complete' : `last complete ${ago(item.lastCompleteAt, now)}`;
  // Whatever the verdict now (incomplete, failed, stale): not shown complete since then.
  return `not verified complete since ${when(item.notCompleteSince)}, ${last}`;
}

/** A failed verdict: which run failed (scheduled or by hand), when, and why: "the last manual check failed at …: …; ". */
function failedWords(f: FolderStatus): string {
  if (f.verdict !== 'failed') return '';
  const run = [f.lastRun, f.lastCheck]
    .filter((r): r is CheckResultSummary => r !== null)
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  if (run === undefined) return '';
  const who = run.by === undefined ? 'scheduled check' : VERIFIED_BY_WORDS[run.by];
  return `the last ${who} failed at ${when(run.at)}: ${printableText(run.summary)}; `;
}

function ago(iso: string, now: number): string {
  return `${formatAge(Math.max(0, now - Date.parse(iso)))} ago`;
}

/**
 * What a source's backups told it, one line per backup machine under the
 * folder's verdict (the worst of theirs, docs/api.md), and where the list of
 * files is (on the backup, which ran the check):
 *   photos: stale (the worst of its 2 backups)
 *     office-pc: stale: not verified for 9 days (complete, verified 9 days ago)
 *     nas: complete, verified 2 hours ago
 */
export function backupsLine(f: FolderStatus, now: number): string {
  if (f.backups.length === 0) return `${f.id}: no backup has reported a check to this machine yet`;
  // Since when: on each backup's line (a source's "last complete" is each backup's own).
  const head = `${f.id}: ${f.verdict}${f.backups.length > 1 ? ` (the worst of its ${f.backups.length} backups)` : ''}`;
  const lines = f.backups.map((b) => `  ${printablePath(b.device.name)}: ${backupWords(b, now)}`);
  const lists = f.backups
    .filter((b) => b.verdict !== 'complete' && (b.lastAttempt ?? b.lastVerified)?.status === 'differences')
    .map((b) => printablePath(b.device.name));
  if (lists.length > 0)
    lines.push(
      `  the list of files is kept on the backup: run synker check ${f.id} on ${lists.join(' or ')}, or open its page (synker ui there)`,
    );
  return [head, ...lines].join('\n');
}

function backupWords(b: BackupStatus, now: number): string {
  const r = b.lastVerified;
  const found = r === null ? null : `${r.status === 'complete' ? 'complete' : printableText(r.summary)}, verified ${ago(r.at, now)}`;
  const since = sinceLine(b, now);
  switch (b.verdict) {
    case 'stale':
      return r === null ? 'stale: never verified' : `stale: not verified for ${formatAge(Math.max(0, now - Date.parse(r.at)))} (${found})`;
    case 'failed': {
      const a = b.lastAttempt;
      return `failed: ${a === null ? 'its last check failed' : `${printableText(a.summary)} (${ago(a.at, now)})`}${found === null ? '' : `; last ${found}`}${since ? `; ${since}` : ''}`;
    }
    case 'not-verified':
      return 'not verified yet';
    default:
      return `${found ?? b.verdict}${since ? `; ${since}` : ''}`;
  }
}

export function register(program: Command): void {
  const command = program
    .command('status')
    .description(
      'per folder: role, peers, last scheduled check and its result, last verification (scheduled, or a synker check or sync run by hand) and who ran it, next scheduled check; e-mails waiting in the outbox',
    )
    .option('--json', 'machine-readable output')
    .option('--open', "then open the agent's status page in the browser (as synker ui)");
  addExamples(command, [
    ['synker status', 'is every backup verified?'],
    ['synker status --json', 'for monitoring scripts'],
    ['synker status --open', 'and the status page, in the browser'],
  ]);
  command.action(
    action(async (flags: { json?: boolean; open?: boolean }, cmd: Command) =>
      withCliContext(cmd.optsWithGlobals(), async (ctx) => {
        const now = Date.now();
        const status = await collectStatus(ctx.store.current(), ctx.dirs.data, now);
        if (flags.json) process.stdout.write(`${JSON.stringify(status)}\n`);
        else {
          if (status.folders.length === 0) process.stdout.write('no folders yet: add one with synker folder add\n');
          else {
            process.stdout.write(
              formatTable(
                ['FOLDER', 'ROLE', 'PEERS', 'LAST SCHEDULED CHECK', 'LAST VERIFIED', 'NEXT CHECK', 'VERDICT'],
                status.folders.map((f) => [
                  f.id,
                  f.role,
                  f.peers.join(', ') || '-',
                  f.role === 'backup' ? resultWords(f.lastCheck) : '(checked by the backup)',
                  f.role === 'backup' ? resultWords(f.lastVerified, true) : latestByBackups(f),
                  f.role !== 'backup' ? '-' : f.overdue ? 'overdue: runs when the agent runs' : when(f.nextCheck),
                  f.verdict,
                ]),
              ),
            );
          }
          for (const f of status.folders) {
            if (f.role === 'source') process.stdout.write(`${backupsLine(f, now)}\n`);
            else if (f.problem === null && sinceLine(f, now) !== '')
              process.stdout.write(`${f.id}: ${failedWords(f)}${sinceLine(f, now)}\n`);
            if (f.problem !== null)
              process.stdout.write(
                `${f.id}: ${printableText(f.problem.message)}${f.problem.hint === null ? '' : `\n  hint: ${printableText(f.problem.hint)}`}\n`,
              );
            if (f.role === 'source' && f.staleAlertAt !== null)
              process.stdout.write(
                `${f.id}: no backup verified it since ${when(f.backups.find((b) => b.lastVerified !== null)?.lastVerified?.at ?? null)} (alert sent ${when(f.staleAlertAt)})\n`,
              );
            else if (alertStands(f))
              process.stdout.write(
                `${f.id}: NOT verified since ${when(f.lastVerified?.at ?? null)} (alert sent ${when(f.staleAlertAt)})\n`,
              );
          }
          process.stdout.write(
            `schedule: "${status.schedule.check}"${status.schedule.timezone ? ` ${status.schedule.timezone}` : ' (local time)'}, e-mail ${status.schedule.email}\n`,
          );
          // One line: "empty" next to a damaged file would contradict it (a damaged file is in the outbox, just never sent).
          const waiting =
            status.outbox.waiting === 0
              ? 'no message waiting'
              : `${plural(status.outbox.waiting, 'e-mail')} waiting since ${when(status.outbox.oldest)}`;
          const damaged =
            status.outbox.damaged === 0 ? '' : `, ${plural(status.outbox.damaged, 'damaged message file')} that will never be sent`;
          const see =
            status.outbox.waiting === 0 && status.outbox.damaged === 0
              ? ''
              : status.outbox.damaged === 0
                ? ' (synker outbox)'
                : ' (synker outbox names them)';
          process.stdout.write(`outbox: ${waiting}${damaged}${see}\n`);
        }
        if (flags.open) await printAndOpen(ctx.dirs.data, true, flags.json ? process.stderr : process.stdout);
        return needsAttention(status) ? EXIT.differences : EXIT.ok;
      }),
    ),
  );
}
