/**
 * The outbox loses nothing and sends nothing twice when a process dies on it (docs/email.md):
 * a sender killed with SIGKILL while it holds the outbox lock leaves a stale lock the next sender
 * takes over; a process killed while it writes a report into the outbox leaves either the whole
 * message or none, never a damaged file (nor its temporary file, once the outbox is written again); and every file the outbox writes is 0600 in a 0700 folder.
 * Real processes, a real SMTP server on loopback (port 0), real files.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { composeMessage } from '../../src/mail/compose.js';
import { flushOutbox } from '../../src/mail/deliver.js';
import { Outbox } from '../../src/mail/outbox.js';
import { killAndWait, spawnHelper, waitForLine } from '../harness/child-script.js';
import { TestSmtpServer, testSmtpSettings } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const CONTENT = { subject: 'Backup of pictures on nas is complete', text: 'All 12 files match.', html: '<p>All 12 files match.</p>' };
const WHEN = new Date('2026-11-25T03:17:00Z');

test('a sender killed while it holds the outbox lock: busy while it lives, then its stale lock is taken over and the report sent once', async (t) => {
  const dir = path.join(await tempDir(t), 'outbox');
  const outbox = new Outbox(dir);
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const settings = testSmtpSettings(server.port);
  await outbox.add(await composeMessage(settings, CONTENT, 'report:1', WHEN));

  // A server that accepts and never greets: the child sits inside the send, lock taken.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const connected = once(silent, 'connection');
  const child = spawnHelper('outbox-child', ['flush', dir, String((silent.address() as AddressInfo).port)]);
  t.after(() => killAndWait(child));
  await connected;
  assert.match(readFileSync(path.join(dir, '.lock'), 'utf8'), new RegExp(`^${child.pid}\\n`), 'the child holds the lock');
  assert.equal(statSync(path.join(dir, '.lock')).mode & 0o777, 0o600, 'the lock is 0600');

  const whileAlive = await flushOutbox({ settings, outbox });
  assert.equal(whileAlive.busy, true, 'a live holder keeps the outbox busy');
  assert.equal(server.received.length, 0);

  await killAndWait(child, 'SIGKILL');
  assert.ok(readdirSync(dir).includes('.lock'), 'the crashed sender left its lock behind');
  const after = await flushOutbox({ settings, outbox });
  assert.equal(after.busy, false);
  assert.equal(after.sent.length, 1);
  assert.equal(server.received.length, 1, 'sent exactly once');
  assert.equal(await outbox.size(), 0);
  assert.ok(!readdirSync(dir).includes('.lock'), 'the lock is released after the flush');
});

test('killed while a report is being queued: the outbox then holds the whole message or nothing, never a damaged file', async (t) => {
  const dir = path.join(await tempDir(t), 'outbox');
  const outbox = new Outbox(dir);
  // A report big enough (~64 MB once encoded) that the write is under way when the kill lands.
  const child = spawnHelper('outbox-child', ['queue', dir, String(24 * 1024 * 1024)]);
  t.after(() => killAndWait(child));
  // Kill at the moment the message's temporary file appears: inside writeFileAtomic, before the rename.
  await new Promise<void>((resolve, reject) => {
    const exited = () => reject(new Error('the child finished before its write could be caught'));
    child.once('exit', exited);
    const started = (): void => {
      child.off('exit', exited);
      resolve();
    };
    const look = (): boolean => readdirSync(dir).some((n) => n.endsWith('.tmp')) && (started(), true);
    const poll = (): void => {
      try {
        if (look()) return;
        const watcher = watch(dir, () => {
          if (look()) watcher.close();
        });
        if (look()) watcher.close();
      } catch {
        setImmediate(poll); // the folder is not made yet
      }
    };
    poll();
  });
  await killAndWait(child, 'SIGKILL');
  const { entries, damaged } = await outbox.inspect();
  assert.deepEqual(damaged, [], 'no damaged message file');
  assert.deepEqual(entries, [], 'the half-written message is not in the outbox');

  // The sender runs again: the report is queued whole and goes out once.
  const again = spawnHelper('outbox-child', ['queue', dir, String(24 * 1024 * 1024)]);
  t.after(() => killAndWait(again));
  await waitForLine(again, /^queued$/, 120_000);
  const listed = await outbox.inspect();
  assert.equal(listed.entries.length, 1);
  assert.deepEqual(listed.damaged, []);
  assert.ok(listed.entries[0]!.size > 24 * 1024 * 1024);
  assert.deepEqual(readdirSync(dir), [`${listed.entries[0]!.id}.json`], "the killed writer's temporary file is removed, not left for ever");
});

test('every file the outbox writes is 0600 and its folder 0700, whatever the umask', async (t) => {
  const previous = process.umask(0);
  t.after(() => process.umask(previous));
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const dir = path.join(await tempDir(t), 'outbox');
  const outbox = new Outbox(dir);
  const settings = testSmtpSettings(server.port);
  await outbox.add(await composeMessage(settings, CONTENT, 'report:1', WHEN));
  await outbox.add(await composeMessage(settings, { ...CONTENT, subject: 'second' }, 'report:2', WHEN));
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  assert.equal(mode(dir), '700');
  const messages = readdirSync(dir).filter((n) => n.endsWith('.json'));
  assert.equal(messages.length, 2);
  for (const name of messages) assert.equal(mode(path.join(dir, name)), '600', name);
  await flushOutbox({ settings, outbox: new Outbox(dir) });
  assert.equal(server.received.length, 2);
  assert.deepEqual(readdirSync(dir), ['sent.log']);
  assert.equal(mode(path.join(dir, 'sent.log')), '600');
});
