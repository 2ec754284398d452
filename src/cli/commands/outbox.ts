/**
 * `synker outbox [--send] [--json]`: the e-mails waiting to be sent. Reports
 * that could not be sent (server down, login refused) wait here until the
 * agent's next retry; `--send` tries now.
 * Exit code: 0 nothing waits (or everything was sent), 1 messages still wait, 2 error.
 */
import type { Command } from 'commander';
import type { SynkerError } from '../../base/errors.js';
import { formatAge } from '../../base/units.js';
import { flushOutbox } from '../../mail/deliver.js';
import { Outbox, OutboxStorageError, type OutboxEntry } from '../../mail/outbox.js';
import { SmtpConfigError } from '../../config/smtp.js';
import { smtpSettingsOf } from '../../config/settings.js';
import { outboxDir } from '../../dirs/data-files.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { EXIT, action, printError } from '../run.js';
import { formatTable } from '../table.js';
import { printablePath, printableText } from '../../base/printable.js';

interface OutboxFlags {
  send?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const outbox = program
    .command('outbox')
    .description('list the e-mails waiting to be sent, or send them now (exit 0 none waiting, 1 some wait, 2 error)')
    .option('--send', 'try to send every waiting e-mail now')
    .option('--json', 'machine-readable output');
  addExamples(outbox, [
    ['synker outbox', 'what waits, and why it was not sent'],
    ['synker outbox --send', 'send now (after fixing the smtp settings)'],
  ]);
  outbox.action(
    action(async (flags: OutboxFlags, command: Command) =>
      withCliContext(command.optsWithGlobals(), async (ctx) => {
        const box = new Outbox(outboxDir(ctx.dirs.data));
        let sent: Array<{ entry: OutboxEntry; response: string }> = [];
        let sendError: SynkerError | undefined;
        let busy = false;
        if (flags.send && (await box.size()) > 0) {
          const settings = smtpSettingsOf(ctx.store.current());
          if (settings === undefined)
            throw new SmtpConfigError(
              'e-mail is not set up: the config has no "smtp" section',
              'Add one (see docs/configuration.md, section "smtp"), then run synker outbox --send.',
            );
          const result = await flushOutbox({ settings, outbox: box });
          sent = result.sent.map((s) => ({ entry: s.entry, response: s.result.response }));
          sendError = result.failed[0]?.error;
          busy = result.busy;
        }
        const { entries: waiting, damaged } = await box.inspect();
        if (flags.json) {
          process.stdout.write(
            `${JSON.stringify({
              waiting,
              sent: sent.map((s) => ({ ...s.entry, response: s.response })),
              ...(sendError ? { error: { code: sendError.code, message: sendError.message, hint: sendError.hint ?? null } } : {}),
              damaged,
              busy,
            })}\n`,
          );
        } else {
          for (const s of sent) process.stdout.write(`sent: ${printablePath(s.entry.subject)} (${printablePath(s.response)})\n`);
          // The lock names a process, not which command it runs: it may be the agent or another `outbox --send`.
          if (busy) process.stdout.write('another synker process is sending right now; run again in a moment\n');
          if (waiting.length === 0 && damaged.length === 0)
            process.stdout.write(flags.send ? 'the outbox is empty\n' : 'the outbox is empty: every report was sent\n');
          else if (waiting.length === 0) process.stdout.write('no message the outbox can send waits\n');
          else {
            const now = Date.now();
            process.stdout.write(
              formatTable(
                ['QUEUED', 'TRIES', 'TO', 'SUBJECT'],
                waiting.map((e) => [
                  age(now - Date.parse(e.createdAt)),
                  String(e.attempts),
                  printablePath(e.envelope.to.join(', ')),
                  printablePath(e.subject),
                ]),
              ),
            );
            const last = waiting.find((e) => e.lastError)?.lastError;
            if (last && !sendError)
              process.stdout.write(`last error: ${printablePath(last.message)}${last.hint ? `\nhint: ${printableText(last.hint)}` : ''}\n`);
          }
        }
        if (sendError) {
          printError(sendError);
          return EXIT.error;
        }
        if (damaged.length > 0) {
          printError(
            new OutboxStorageError(
              `${damaged.length === 1 ? 'a message file in the outbox is' : `${damaged.length} message files in the outbox are`} damaged and will never be sent: ${printablePath(damaged.join(', '))}`,
              'They are kept as they are, never deleted: open one to see what it held (JSON with the message in base64 under "raw"), then remove it by hand.',
            ),
          );
          return EXIT.error;
        }
        return waiting.length === 0 ? EXIT.ok : EXIT.differences;
      }),
    ),
  );
}

function age(ms: number): string {
  return `${formatAge(Math.max(0, ms))} ago`;
}
