/**
 * The mail server: the settings parse, the password can be read, and the
 * server accepts a connection, TLS as configured and the login — everything
 * short of sending a message (`synker test-email` sends one).
 */
import { SynkerError } from '../base/errors.js';
import { createMailer } from '../mail/mailer.js';
import { readSmtpPassword } from '../config/smtp.js';
import { smtpSettingsOf } from '../config/settings.js';
import type { SynkerConfig } from '../config/types.js';
import { fail, ok, skip, type Finding } from './finding.js';

const CHECK = 'smtp';

/** `section` is the config's `smtp` section (undefined when e-mail is not set up). */
export async function checkSmtp(section: SynkerConfig['smtp'], env: NodeJS.ProcessEnv = process.env): Promise<Finding> {
  if (section === undefined) return skip(CHECK, 'e-mail reports are not set up (no smtp section in the config)');
  try {
    const settings = smtpSettingsOf({ smtp: section })!;
    const password = readSmtpPassword(settings, env);
    const mailer = createMailer(settings, password);
    try {
      await mailer.verify();
    } finally {
      mailer.close();
    }
    const login = settings.user !== undefined ? `, login as ${settings.user} accepted` : ' (no login configured)';
    return ok(CHECK, `${settings.host}:${settings.port} accepts connections${login}`);
  } catch (err) {
    if (!(err instanceof SynkerError)) throw err;
    return fail(CHECK, err.message, err.hint ?? 'Check the smtp settings in the config.');
  }
}
