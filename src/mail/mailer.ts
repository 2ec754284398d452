/**
 * Hands finished messages to the SMTP server named in the config, and turns
 * every way that can fail into words naming the setting to fix. Messages are
 * composed once into raw RFC 5322 bytes (compose.ts) so a retry from the
 * outbox sends exactly the same bytes with the same Message-ID.
 */
import type { SMTPSentMessageInfo } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { SynkerError, errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import type { SmtpSettings } from '../config/smtp.js';

const log = createLogger('mailer');

export interface Envelope {
  from: string;
  to: string[];
}

export interface DeliveryResult {
  /** The server's final reply, e.g. "250 2.0.0 Ok: queued as 1A2B3C". */
  response: string;
  accepted: string[];
  rejected: string[];
}

/** What the user should change, keyed by what went wrong. */
export type MailFailure = 'connect' | 'timeout' | 'dns' | 'tls' | 'auth' | 'recipients' | 'rejected' | 'protocol';

export class MailDeliveryError extends SynkerError {
  readonly failure: MailFailure;
  /** True when the same message may go through later (server down, timeout, 4xx). */
  readonly transient: boolean;
  constructor(failure: MailFailure, transient: boolean, message: string, hint: string, cause?: unknown) {
    super(`E_SMTP_${failure.toUpperCase()}`, message, { hint, cause });
    this.failure = failure;
    this.transient = transient;
  }
}

export interface Mailer {
  send(raw: Buffer, envelope: Envelope): Promise<DeliveryResult>;
  /** Connect, say EHLO, upgrade to TLS and log in as configured, without sending anything (`synker doctor`). */
  verify(): Promise<void>;
  close(): void;
}

/** Bare address from `Name <addr>` or `addr`, for the SMTP envelope. */
export function bareAddress(value: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(value);
  return (angle ? angle[1]! : value).trim();
}

export function envelopeOf(settings: SmtpSettings): Envelope {
  return { from: bareAddress(settings.from), to: settings.to.map(bareAddress) };
}

/** How long a closed connection waits for the server to close its side too. */
const SOCKET_CLOSE_WAIT_MS = 500;

/**
 * nodemailer (about 40 modules, 40 ms) is loaded when the first message is
 * sent or the server verified, not when a command that may send one starts:
 * `synker status` and every check without `--email` never need it.
 */
async function createTransport(options: SMTPTransport.Options) {
  const { default: nodemailer } = await import('nodemailer');
  return nodemailer.createTransport(options);
}

export function createMailer(settings: SmtpSettings, password: string | undefined): Mailer {
  let transport: ReturnType<typeof createTransport> | undefined;
  let closed = false;
  const open = () => {
    transport ??= createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: !settings.secure && settings.starttls === 'required',
      ignoreTLS: !settings.secure && settings.starttls === 'never',
      // The EHLO name is given so nodemailer never looks our own name up in DNS.
      name: settings.clientName,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      // After giving up on a server (one that never greets, say), nodemailer waits up to 5 s by default
      // for it to close its side, and that timer kept `synker test-email` or `check --email` from exiting.
      socketCloseTimeout: Math.min(SOCKET_CLOSE_WAIT_MS, settings.timeoutMs),
      tls: { rejectUnauthorized: settings.tlsVerify },
      ...(settings.user !== undefined ? { auth: { user: settings.user, pass: password ?? '' } } : {}),
      // Messages are pre-built bytes: nothing may be fetched from files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
    return transport;
  };
  return {
    async send(raw, envelope) {
      try {
        const info: SMTPSentMessageInfo = await (await open()).sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw });
        const result: DeliveryResult = {
          response: String(info.response ?? ''),
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
        };
        if (result.rejected.length > 0) log.warn(`the server refused some recipients: ${result.rejected.join(', ')}`);
        return result;
      } catch (err) {
        throw describeSmtpError(err, settings);
      }
    },
    async verify() {
      try {
        await (await open()).verify();
      } catch (err) {
        throw describeSmtpError(err, settings);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      // A transport still being created closes as soon as it exists.
      void transport?.then(
        (t) => t.close(),
        () => {},
      );
    },
  };
}

interface NodemailerErrorShape {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  cause?: unknown;
}

/** Turns a nodemailer/socket error into a MailDeliveryError whose hint names the setting to fix. */
export function describeSmtpError(err: unknown, settings: SmtpSettings): MailDeliveryError {
  if (err instanceof MailDeliveryError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as NodemailerErrorShape;
  const where = `${settings.host}:${settings.port}`;
  const reply = e.response ? ` (server said: ${e.response.trim().slice(0, 200)})` : '';
  const socketCode =
    errnoCode(e.cause) ?? /\b(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ENOTFOUND|EAI_AGAIN)\b/.exec(e.message ?? '')?.[1];
  const transientReply = e.responseCode === undefined || (e.responseCode >= 400 && e.responseCode < 500);

  if (socketCode === 'ENOTFOUND' || socketCode === 'EAI_AGAIN' || e.code === 'EDNS') {
    return new MailDeliveryError(
      'dns',
      true,
      `cannot find the mail server ${settings.host}: the name does not resolve`,
      "Check smtp.host (spelling, or use the server's IP address) and this machine's network.",
      err,
    );
  }
  if (socketCode === 'ECONNREFUSED') {
    return new MailDeliveryError(
      'connect',
      true,
      `the mail server ${where} refused the connection`,
      'Check smtp.host and smtp.port (587 for STARTTLS, 465 with smtp.secure: true, 25 for a local relay) and that the server is running.',
      err,
    );
  }
  if (socketCode === 'EHOSTUNREACH' || socketCode === 'ENETUNREACH') {
    return new MailDeliveryError(
      'connect',
      true,
      `the mail server ${where} cannot be reached from this machine (${socketCode})`,
      'Check the network connection and smtp.host.',
      err,
    );
  }
  if (e.code === 'ETIMEDOUT') {
    return new MailDeliveryError(
      'timeout',
      true,
      `the mail server ${where} did not answer in time`,
      'Check smtp.host and smtp.port (a firewall may drop the connection; smtp.secure: true needs port 465), or raise smtp.timeout.',
      err,
    );
  }
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') {
    const source =
      settings.passwordEnv !== undefined
        ? `the environment variable ${settings.passwordEnv} (smtp.passwordEnv)`
        : `smtp.passwordFile ${settings.passwordFile ?? ''}`;
    return new MailDeliveryError(
      'auth',
      e.responseCode !== undefined && e.responseCode < 500,
      `the mail server ${where} refused the login for smtp.user "${settings.user ?? ''}"${reply}`,
      `Check smtp.user and the password in ${source}; some providers need an app password.`,
      err,
    );
  }
  if (e.code === 'ETLS' || /certificate|self[- ]signed|SSL|TLS/i.test(e.message ?? '')) {
    return new MailDeliveryError(
      'tls',
      false,
      `TLS with the mail server ${where} failed: ${e.message ?? String(err)}`,
      'Check smtp.secure (true only for port 465) and smtp.starttls; for a relay with a self-signed certificate set smtp.tlsVerify: false.',
      err,
    );
  }
  if (e.code === 'EENVELOPE') {
    return new MailDeliveryError(
      'recipients',
      transientReply,
      `the mail server ${where} refused the sender or the recipients${reply}`,
      'Check smtp.from (many servers only accept their own addresses) and smtp.to.',
      err,
    );
  }
  if (e.code === 'EMESSAGE') {
    return new MailDeliveryError(
      'rejected',
      transientReply,
      `the mail server ${where} refused the message${reply}`,
      "The server's reply says why; the message stays in the outbox (synker outbox).",
      err,
    );
  }
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || socketCode !== undefined) {
    return new MailDeliveryError(
      'connect',
      true,
      `the connection to the mail server ${where} failed: ${e.message ?? String(err)}`,
      'Check smtp.host, smtp.port and smtp.secure, and that the server is running.',
      err,
    );
  }
  return new MailDeliveryError(
    'protocol',
    true,
    `sending through ${where} failed: ${e.message ?? String(err)}${reply}`,
    'Check the smtp settings; run synker test-email --debug for details.',
    err,
  );
}
