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
import { alertStands, collectStatus, needsAttention } from '../../schedule/status.js';
import { printableText } from '../../base/printable.js';
import { withCliContext } from '../context.js';
import { printAndOpen } from '../open-page.js';
import { addExamples } from '../help.js';
import { EXIT, action } from '../run.js';
import { formatTable } from '../table.js';
import { plural } from '../../base/units.js';

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
        const status = await collectStatus(ctx.store.current(), ctx.dirs.data, Date.now());
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
                  f.role === 'backup' ? resultWords(f.lastVerified, true) : '-',
                  f.role !== 'backup' ? '-' : f.overdue ? 'overdue: runs when the agent runs' : when(f.nextCheck),
                  f.verdict,
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
        if (flags.open) await printAndOpen(ctx.dirs.data, true, flags.json ? process.stderr : process.stdout);
        return needsAttention(status) ? EXIT.differences : EXIT.ok;
      }),
    ),
  );
}
