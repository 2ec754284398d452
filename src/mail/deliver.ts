/**
 * Sending a report the way that loses nothing: compose it, store it in the
 * outbox, then flush the outbox (older messages first). When the server is
 * down or refuses the login, the message waits in the outbox and the outcome
 * carries the error that says why; the next run or the agent's periodic retry
 * delivers it.
 */
import { SynkerError, rethrowIfBug } from '../base/errors.js';
import { composeMessage, type MailContent } from './compose.js';
import { createMailer, type DeliveryResult, type Mailer } from './mailer.js';
import { type Outbox, outboxIdFor, type FlushResult } from './outbox.js';
import { readSmtpPassword, type SmtpSettings } from '../config/smtp.js';

export type SendOutcome =
  | { status: 'sent'; messageId: string; result: DeliveryResult; flush: FlushResult }
  /** Waiting in the outbox; `error` says why it was not delivered now. */
  | { status: 'queued'; messageId: string; error: SynkerError; flush?: FlushResult }
  /** The same message (same key) was delivered before: nothing was sent again. */
  | { status: 'already-sent'; messageId: string };

export interface MailSetup {
  settings: SmtpSettings;
  outbox: Outbox;
  env?: NodeJS.ProcessEnv;
  /** For tests: a mailer instead of one built from `settings`. */
  mailer?: Mailer;
}

/** Builds a mailer, or says why none can be built (e.g. the password file is readable by others). */
function openMailer(setup: MailSetup): Mailer {
  if (setup.mailer) return setup.mailer;
  return createMailer(setup.settings, readSmtpPassword(setup.settings, setup.env));
}

/** Tries to deliver everything in the outbox. Errors reading the password are thrown (nothing is lost). */
export async function flushOutbox(setup: MailSetup): Promise<FlushResult> {
  if ((await setup.outbox.size()) === 0) return { sent: [], failed: [], remaining: 0, busy: false };
  const mailer = openMailer(setup);
  try {
    return await setup.outbox.flush(mailer);
  } finally {
    if (!setup.mailer) mailer.close();
  }
}

export async function sendThroughOutbox(setup: MailSetup, content: MailContent, key: string, date: Date): Promise<SendOutcome> {
  const message = await composeMessage(setup.settings, content, key, date);
  const queued = await setup.outbox.add(message);
  if (!queued) return { status: 'already-sent', messageId: message.messageId };
  let flush: FlushResult;
  try {
    flush = await flushOutbox(setup);
  } catch (err) {
    rethrowIfBug(err);
    if (!(err instanceof SynkerError)) throw err;
    return { status: 'queued', messageId: message.messageId, error: err };
  }
  const id = outboxIdFor(message.messageId);
  const sent = flush.sent.find((s) => s.entry.id === id);
  if (sent) return { status: 'sent', messageId: message.messageId, result: sent.result, flush };
  const failed = flush.failed.find((f) => f.entry.id === id) ?? flush.failed[0];
  const error =
    failed?.error ??
    new SynkerError('E_OUTBOX_BUSY', 'the message waits in the outbox: another synker process is sending right now', {
      hint: 'It will be sent by that process or the next run; see synker outbox.',
    });
  return { status: 'queued', messageId: message.messageId, error, flush };
}
