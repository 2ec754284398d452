/**
 * A mail server that stops answering must not keep synker waiting after the
 * error: the connection is let go at once, not after nodemailer's default
 * 5 s wait for the server to close its side, during which the process could
 * not exit (`synker test-email`, `check --email`, `outbox --send`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { testSmtpSettings } from '../harness/smtp.js';

const MAILER = new URL('../../src/mail/mailer.js', import.meta.url).href;

test('a server that accepts the connection and never greets: the error comes at the timeout, and the process can exit right after', async (t) => {
  // Half-open allowed: like a stuck server, it never closes its side by itself.
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  const settings = testSmtpSettings(port, { timeoutMs: 800 });
  const script = `
    import { createMailer } from ${JSON.stringify(MAILER)};
    const mailer = createMailer(${JSON.stringify(settings)}, undefined);
    try { await mailer.verify(); } catch (err) { console.log('failed ' + err.code); }
    mailer.close();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let failedAt: number | undefined;
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    failedAt ??= Date.now();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const exitedAt = Date.now();
  assert.match(out, /^failed E_SMTP_TIMEOUT/);
  assert.ok(failedAt !== undefined);
  assert.ok(exitedAt - failedAt < 2_500, `the process exited ${exitedAt - failedAt} ms after the error (nodemailer waits 5 s by default)`);
});
