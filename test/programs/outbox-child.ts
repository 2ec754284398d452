/**
 * Test helper process for test/integration/outbox-crash.test.ts, killed with SIGKILL mid-way:
 *   outbox-child.js flush DIR PORT   flushes DIR's outbox to an SMTP server on 127.0.0.1:PORT (one that
 *                                    never answers holds it inside the send, with the outbox lock taken)
 *   outbox-child.js queue DIR BYTES  queues one report whose text is BYTES long, then prints `queued`
 */
import { flushOutbox } from '../../src/mail/deliver.js';
import { composeMessage } from '../../src/mail/compose.js';
import { Outbox } from '../../src/mail/outbox.js';
import { testSmtpSettings } from '../harness/smtp.js';

const [mode, dir, arg] = process.argv.slice(2) as [string, string, string];
const outbox = new Outbox(dir);
if (mode === 'flush') {
  await flushOutbox({ settings: testSmtpSettings(Number(arg), { timeoutMs: 600_000 }), outbox });
  process.stdout.write('flushed\n');
} else {
  const text = 'x'.repeat(Number(arg));
  const message = await composeMessage(
    testSmtpSettings(25),
    { subject: 'big report', text, html: `<p>${text}</p>` },
    'report:big',
    new Date('2026-11-25T03:17:00Z'),
  );
  await outbox.add(message);
  process.stdout.write('queued\n');
}
