/**
 * `synker test-email [--to ADDRESS...]`: sends a sample message with the
 * config's smtp settings, straight to the server (not through the outbox: a
 * test should say at once whether mail works, and what to fix if not).
 * Exit code: 0 sent, 2 error (the message names the setting to fix).
 */
import type { Command } from 'commander';
import { composeMessage } from '../../mail/compose.js';
import { renderTestEmail } from '../../mail/notices.js';
import { createMailer } from '../../mail/mailer.js';
import { UsageError } from '../../base/errors.js';
import { SmtpConfigError, isMailAddress, readSmtpPassword, type SmtpSettings } from '../../config/smtp.js';
import { smtpSettingsOf } from '../../config/settings.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

interface TestEmailFlags {
  to?: string[];
  json?: boolean;
}

export function securityWords(settings: SmtpSettings): string {
  if (settings.secure) return 'TLS';
  return { required: 'STARTTLS required', opportunistic: 'STARTTLS when offered', never: 'no encryption' }[settings.starttls];
}

export function register(program: Command): void {
  const command = program
    .command('test-email')
    .description('send a test e-mail with the smtp settings from the config (exit 0 sent, 2 error)')
    .option('--to <address...>', 'send to these addresses instead of smtp.to')
    .option('--json', 'machine-readable result');
  addExamples(command, [
    ['synker test-email', 'check that reports will reach smtp.to'],
    ['synker test-email --to me@example.org', 'try one address first'],
  ]);
  command.action(
    action(async (flags: TestEmailFlags, cmd: Command) =>
      withCliContext(cmd.optsWithGlobals(), async (ctx) => {
        const config = ctx.store.current();
        const configured = smtpSettingsOf(config);
        if (configured === undefined) {
          throw new SmtpConfigError(
            'e-mail is not set up: the config has no "smtp" section',
            'Add one (see docs/configuration.md, section "smtp"), then run synker test-email again.',
          );
        }
        // Checked here so a bad --to is named as such, not as the config's smtp.to.
        for (const address of flags.to ?? []) {
          if (!isMailAddress(address))
            throw new UsageError(`--to ${address}: not an e-mail address`, 'Give an address like me@example.org or "Me <me@example.org>".');
        }
        // As smtp.to would be read: the address trimmed.
        const settings: SmtpSettings = flags.to ? { ...configured, to: flags.to.map((address) => address.trim()) } : configured;
        const now = new Date();
        const content = renderTestEmail(
          {
            host: settings.host,
            port: settings.port,
            security: securityWords(settings),
            ...(settings.user !== undefined ? { user: settings.user } : {}),
            from: settings.from,
            to: settings.to,
          },
          { now, agentName: config.name },
        );
        const message = await composeMessage(settings, content, `test:${now.toISOString()}`, now);
        const mailer = createMailer(settings, readSmtpPassword(settings));
        try {
          const result = await mailer.send(message.raw, message.envelope);
          if (flags.json)
            process.stdout.write(
              `${JSON.stringify({
                sent: true,
                messageId: message.messageId,
                accepted: result.accepted,
                rejected: result.rejected,
                response: result.response,
              })}\n`,
            );
          else {
            process.stdout.write(`sent a test e-mail to ${result.accepted.join(', ')} through ${settings.host}:${settings.port}\n`);
            process.stdout.write(`server said: ${result.response}\n`);
            if (result.rejected.length > 0)
              process.stdout.write(`refused recipients: ${result.rejected.join(', ')} (check ${flags.to ? '--to' : 'smtp.to'})\n`);
          }
        } finally {
          mailer.close();
        }
      }),
    ),
  );
}
