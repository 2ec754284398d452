/**
 * Builds the exact bytes of a message (RFC 5322, MIME multipart) once, before
 * the first delivery attempt. The outbox stores these bytes, so every retry
 * sends the same message with the same Message-ID: a receiving server or mail
 * client can recognise a repeat, and nothing depends on the config or the
 * clock at retry time.
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { SYNKER_VERSION } from '../base/version.js';
import { bareAddress, envelopeOf, type Envelope } from './mailer.js';
import type { SmtpSettings } from '../config/smtp.js';

export interface MailAttachment {
  filename: string;
  content: string | Buffer;
  contentType: string;
}

/** What a renderer produces: the same content in plain text and HTML. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
  attachments?: MailAttachment[];
}

export interface ComposedMessage {
  /** `<...@...>`, stable for a given key. */
  messageId: string;
  subject: string;
  /** ISO time the message was composed (its Date header). */
  date: string;
  envelope: Envelope;
  raw: Buffer;
}

/**
 * `key` names what the message is about (e.g. "report:pictures:2026-11-25T03:17:00Z"):
 * the Message-ID is derived from it, so composing the same report twice (a
 * crash between queueing and recording) yields the same message, which the
 * outbox stores once.
 */
export function messageIdFor(key: string, settings: SmtpSettings): string {
  const domain = bareAddress(settings.from).split('@')[1] ?? settings.clientName;
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `<synker.${digest}@${domain}>`;
}

export async function composeMessage(settings: SmtpSettings, content: MailContent, key: string, date: Date): Promise<ComposedMessage> {
  const messageId = messageIdFor(key, settings);
  const composer = new MailComposer({
    from: settings.from,
    to: settings.to,
    subject: content.subject,
    messageId,
    date,
    text: content.text,
    html: content.html,
    attachments: (content.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
    headers: {
      // RFC 3834: an automatic message; well-behaved auto-responders stay quiet.
      'Auto-Submitted': 'auto-generated',
      'X-Mailer': `synker ${SYNKER_VERSION}`,
    },
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'windows',
  });
  const raw = await composer.compile().build();
  return { messageId, subject: content.subject, date: date.toISOString(), envelope: envelopeOf(settings), raw };
}
