/**
 * The demo's own mail server: a real SMTP server (smtp-server) on
 * 127.0.0.1, no account, no TLS, keeping what it receives in memory. The
 * backup's `synker check --email` delivers its report here exactly as it
 * would to a provider, and nothing leaves the machine. Reverse lookups are
 * off, so the server never asks a DNS resolver about its clients.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DemoError } from './errors.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message exactly as it arrived (RFC 5322). */
  raw: Buffer;
}

/** A report is < 100 KB plus a gzipped CSV; anything near this is not ours. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export class DemoMailbox {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | undefined;

  /** Starts listening on 127.0.0.1 (a free port); returns the port. */
  async start(): Promise<number> {
    const server = new SMTPServer({
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      size: MAX_MESSAGE_BYTES,
      banner: 'synker demo mailbox',
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            callback(Object.assign(new Error('message too large for the demo mailbox'), { responseCode: 552 }));
            return;
          }
          this.received.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          });
          callback(null);
        });
      },
    });
    // Errors on one client connection (a reset) must not end the demo; the sender reports its own failures.
    server.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw new DemoError('E_DEMO_MAILBOX', `the demo's mail server could not listen on 127.0.0.1: ${(err as Error).message}`, {
        cause: err,
        hint: 'The loopback interface must be up (ip link set lo up); synker doctor checks the rest.',
      });
    }
    this.server = server;
    return (server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
