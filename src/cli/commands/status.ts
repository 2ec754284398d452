/**
 * `synker status [--json]`: per folder, its role, its peer(s), the last
 * scheduled check and the last check or sync that verified the backup
 * (scheduled or run by hand: `lastVerified.by` says who), when the next
 * check is due, and how many e-mails wait in the outbox.
 * Exit code: 0 every backup verified and complete, 1 something needs
 * attention (differences, not verified, a folder absent, mail waiting), 2 error.
 */
import type { Command } from 'commander';
import { shortDeviceId } from '../../identity/device-id.js';
import type { FolderConfig, SynkerConfig } from '../../config/types.js';
import { Outbox } from '../../mail/outbox.js';
import { outboxDir, scheduleStateFile } from '../../dirs/data-files.js';
import { nextCheckAt } from '../../schedule/scheduler.js';
import { createCron, type ScheduleSettings } from '../../config/schedule.js';
import { scheduleSettingsOf } from '../../config/settings.js';
import { ScheduleStateStore, VERIFIED_BY_WORDS, type CheckResultSummary, type FolderScheduleState } from '../../schedule/state.js';
import { verifyFolderRoot } from '../../config/folder-marker.js';
import { SynkerError } from '../../base/errors.js';
import { printableText } from '../../base/printable.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { EXIT, action } from '../run.js';
import { formatTable } from '../table.js';
import { plural } from '../../base/units.js';

export interface FolderStatus {
  id: string;
  role: FolderConfig['role'];
  path: string;
  peers: string[];
  lastCheck: CheckResultSummary | null;
  lastVerified: CheckResultSummary | null;
  /** ISO time of the next scheduled check (backup folders). */
  nextCheck: string | null;
  /** The next check's slot already passed: it runs soon after the agent starts or wakes. */
  overdue: boolean;
  /** A "not verified since" alert is out. */
  staleAlertAt: string | null;
  /** Why the folder cannot be used now (absent: an unmounted disk; another folder's marker; unreadable), or null. */
  problem: { code: string; message: string; hint: string | null } | null;
}

export interface StatusReport {
  folders: FolderStatus[];
  /** `damaged`: message files that cannot be read, so will never be sent (kept for a person to look at). */
  outbox: { waiting: number; oldest: string | null; damaged: number };
  schedule: { check: string; timezone: string | null; email: ScheduleSettings['email'] };
}

export async function collectStatus(config: SynkerConfig, dataDir: string, now: number): Promise<StatusReport> {
  const settings = scheduleSettingsOf(config);
  const cron = createCron(settings.check, settings.timezone);
  const state = await new ScheduleStateStore(scheduleStateFile(dataDir)).load();
  const { entries: waiting, damaged } = await new Outbox(outboxDir(dataDir)).inspect();
  const names = new Map(config.trusted.map((d) => [d.deviceId, d.name ?? shortDeviceId(d.deviceId)]));
  // The folder as it is now, as check and sync would find it: an unmounted disk is said here too.
  const problems = await Promise.all(
    config.folders.map(async (folder): Promise<FolderStatus['problem']> => {
      try {
        await verifyFolderRoot(folder.path, folder.id);
        return null;
      } catch (err) {
        if (!(err instanceof SynkerError)) throw err;
        return { code: err.code, message: err.message, hint: err.hint ?? null };
      }
    }),
  );
  const folders = config.folders.map((folder, index): FolderStatus => {
    const fs: FolderScheduleState | undefined = state.folders[folder.id];
    let nextCheck: string | null = null;
    let overdue = false;
    if (folder.role === 'backup') {
      // Without a running agent to say when it woke, compute the plain schedule; a passed slot is "overdue".
      const due = nextCheckAt(cron, settings, fs ?? { firstSeenAt: new Date(now).toISOString() }, Number.NEGATIVE_INFINITY);
      overdue = due <= now;
      nextCheck = Number.isFinite(due) ? new Date(due).toISOString() : null;
    }
    return {
      id: folder.id,
      role: folder.role,
      path: folder.path,
      peers: folder.shareWith.map((id) => names.get(id) ?? shortDeviceId(id)),
      lastCheck: fs?.lastResult ?? null,
      lastVerified: fs?.lastVerified ?? null,
      nextCheck,
      overdue,
      staleAlertAt: fs?.staleAlertAt ?? null,
      problem: problems[index] ?? null,
    };
  });
  return {
    folders,
    outbox: { waiting: waiting.length, oldest: waiting[0]?.createdAt ?? null, damaged: damaged.length },
    schedule: { check: settings.check, timezone: settings.timezone ?? null, email: settings.email },
  };
}

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

/** A check that verified the backup after the last scheduled attempt (or after the alert) answers for it. */
function supersedes(verified: CheckResultSummary | null, at: string | null | undefined): boolean {
  return verified !== null && at != null && Date.parse(verified.at) > Date.parse(at);
}

/** The "not verified since" alert is out and no check verified the backup since it went out. */
function alertStands(f: FolderStatus): boolean {
  return f.staleAlertAt !== null && !supersedes(f.lastVerified, f.staleAlertAt);
}

export function needsAttention(status: StatusReport): boolean {
  return (
    status.outbox.waiting > 0 ||
    status.outbox.damaged > 0 ||
    status.folders.some((f) => f.problem !== null) ||
    status.folders.some(
      (f) =>
        f.role === 'backup' &&
        // The last scheduled check failing counts at once, not only once the stale alert is out (days later),
        // unless a later check (one run by hand) verified the backup since.
        (alertStands(f) ||
          f.lastVerified === null ||
          f.lastVerified.status !== 'complete' ||
          (f.lastCheck !== null && f.lastCheck.status !== 'complete' && !supersedes(f.lastVerified, f.lastCheck.at))),
    )
  );
}

export function register(program: Command): void {
  const command = program
    .command('status')
    .description(
      'per folder: role, peers, last scheduled check and its result, last verification (scheduled, or a synker check or sync run by hand) and who ran it, next scheduled check; e-mails waiting in the outbox',
    )
    .option('--json', 'machine-readable output');
  addExamples(command, [
    ['synker status', 'is every backup verified?'],
    ['synker status --json', 'for monitoring scripts'],
  ]);
  command.action(
    action(async (flags: { json?: boolean }, cmd: Command) =>
      withCliContext(cmd.optsWithGlobals(), async (ctx) => {
        const status = await collectStatus(ctx.store.current(), ctx.dirs.data, Date.now());
        if (flags.json) process.stdout.write(`${JSON.stringify(status)}\n`);
        else {
          if (status.folders.length === 0) process.stdout.write('no folders yet: add one with synker folder add\n');
          else {
            process.stdout.write(
              formatTable(
                ['FOLDER', 'ROLE', 'PEERS', 'LAST SCHEDULED CHECK', 'LAST VERIFIED', 'NEXT CHECK'],
                status.folders.map((f) => [
                  f.id,
                  f.role,
                  f.peers.join(', ') || '-',
                  f.role === 'backup' ? resultWords(f.lastCheck) : '(checked by the backup)',
                  f.role === 'backup' ? resultWords(f.lastVerified, true) : '-',
                  f.role !== 'backup' ? '-' : f.overdue ? 'overdue: runs when the agent runs' : when(f.nextCheck),
                ]),
              ),
            );
          }
          for (const f of status.folders) {
            if (f.problem !== null)
              process.stdout.write(
                `${f.id}: ${printableText(f.problem.message)}${f.problem.hint === null ? '' : `\n  hint: ${printableText(f.problem.hint)}`}\n`,
              );
            if (alertStands(f))
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
        return needsAttention(status) ? EXIT.differences : EXIT.ok;
      }),
    ),
  );
}
