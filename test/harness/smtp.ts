/**
 * A real SMTP server (smtp-server) in the test process on 127.0.0.1, keeping
 * every message it accepted. Reverse lookups are off so no test ever asks the
 * system resolver anything.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { SmtpSettings } from '../../src/config/smtp.js';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

export interface TestSmtpOptions {
  /** Accepted logins; without it no authentication is offered. */
  users?: Record<string, string>;
  /** Listen on this port (to bring a "down" server back on the same address). */
  port?: number;
  /** Offer STARTTLS (with smtp-server's built-in self-signed certificate). */
  starttls?: boolean;
}

export class TestSmtpServer {
  readonly received: ReceivedMessage[] = [];
  port = 0;
  private server: SMTPServer | undefined;

  async start(options: TestSmtpOptions = {}): Promise<this> {
    const users = options.users;
    const server = new SMTPServer({
      disableReverseLookup: true,
      hideSTARTTLS: !options.starttls,
      authOptional: users === undefined,
      allowInsecureAuth: true,
      ...(users === undefined ? { disabledCommands: ['AUTH'] } : {}),
      logger: false,
      onAuth(auth, _session, callback) {
        if (users !== undefined && users[auth.username ?? ''] === auth.password) callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.received.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          });
          callback(null);
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async parsed(index: number): Promise<ParsedMail> {
    const message = this.received[index];
    if (!message) throw new Error(`no message #${index} (received ${this.received.length})`);
    return simpleParser(message.raw);
  }
}

/** SMTP settings pointing at a test server (plain, no STARTTLS, fixed EHLO name: no DNS). */
export function testSmtpSettings(port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings {
  return {
    host: '127.0.0.1',
    port,
    secure: false,
    starttls: 'never',
    tlsVerify: true,
    from: 'synker on nas <synker@nas.test>',
    to: ['owner@example.test', 'admin@example.test'],
    clientName: 'nas.test',
    timeoutMs: 5_000,
    ...extra,
  };
}

/**
 * The config file's `smtp` section pointing at a test server (plain, no STARTTLS, fixed EHLO name: no DNS),
 * mailing owner@example.test; `extra` adds or replaces keys.
 */
export function testSmtpSection(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    starttls: 'never',
    from: 'synker on nas <synker@nas.test>',
    to: ['owner@example.test'],
    clientName: 'nas.test',
    ...extra,
  };
}
