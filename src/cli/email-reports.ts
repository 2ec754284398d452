/**
 * `synker check --email`: the report mailer from the config (refused before
 * any checking when e-mail is not set up), and sending each report through
 * the outbox with a line on stderr saying what happened. A report that could
 * not be sent waits in the outbox; the check's exit code still describes the
 * backup, and the error line says why the mail did not go out.
 */
import type { SynkerConfig } from '../config/types.js';
import type { CheckReport } from '../report/model.js';
import { ReportMailer, sourceNameIn } from '../schedule/notify.js';
import { Outbox } from '../mail/outbox.js';
import { SmtpConfigError } from '../config/smtp.js';
import { outboxDir } from '../dirs/data-files.js';
import { scheduleSettingsOf, smtpSettingsOf } from '../config/settings.js';
import { printablePath, printableText } from '../base/printable.js';
import { plural } from '../base/units.js';

export function reportMailerFor(config: SynkerConfig, dataDir: string): ReportMailer {
  const settings = smtpSettingsOf(config);
  if (settings === undefined) {
    throw new SmtpConfigError(
      'e-mail is not set up: the config has no "smtp" section',
      'Add one (see docs/configuration.md, section "smtp") and try it with synker test-email.',
    );
  }
  const timeZone = scheduleSettingsOf(config).timezone;
  return new ReportMailer({
    settings,
    outbox: new Outbox(outboxDir(dataDir)),
    agentName: config.name,
    sourceNameOf: sourceNameIn(config),
    ...(timeZone !== undefined ? { timeZone } : {}),
  });
}

export async function emailReports(
  mailer: ReportMailer,
  reports: readonly CheckReport[],
  write: (line: string) => void = (l) => process.stderr.write(l),
): Promise<void> {
  for (const report of reports) {
    const outcome = await mailer.sendReport(report);
    // The mail server's words are quoted in the error: escaped like any text from elsewhere (base/printable.ts).
    if (outcome.status === 'sent') {
      write(`e-mailed the report of ${report.folderId} to ${printablePath(outcome.result.accepted.join(', '))}\n`);
      // Sending flushes the outbox: e-mails that waited there went out too, which is news to the user.
      const earlier = outcome.flush.sent.filter((s) => s.entry.messageId !== outcome.messageId).length;
      if (earlier > 0) write(`also sent ${plural(earlier, 'e-mail')} that waited in the outbox\n`);
    } else if (outcome.status === 'already-sent') write(`the report of ${report.folderId} was e-mailed before\n`);
    else {
      write(
        `error: the report of ${report.folderId} was not e-mailed now (it waits in the outbox): ${printableText(outcome.error.message)}\n`,
      );
      if (outcome.error.hint) write(`hint: ${printableText(outcome.error.hint)}\n`);
    }
  }
}
