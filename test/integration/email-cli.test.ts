/**
 * `synker test-email`, `synker outbox`, `synker status` as a user runs them,
 * against a real SMTP server on loopback.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { composeMessage } from '../../src/mail/compose.js';
import { Outbox } from '../../src/mail/outbox.js';
import { outboxDir, scheduleStateFile } from '../../src/dirs/data-files.js';
import { ScheduleStateStore } from '../../src/schedule/state.js';
import { REFUSED_PORT } from '../harness/ports.js';
import { TestSmtpServer, testSmtpSettings } from '../harness/smtp.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface Setup {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  writeConfig(extra: Record<string, unknown>): Promise<void>;
}

async function setup(t: import('node:test').TestContext): Promise<Setup> {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const root = env.SYNKER_HOME!;
  const configDir = path.join(root, 'config');
  await mkdir(configDir, { recursive: true });
  return {
    env,
    dataDir: path.join(root, 'data'),
    async writeConfig(extra) {
      await writeFile(
        path.join(configDir, 'config.json'),
        JSON.stringify({ version: 1, name: 'nas', port: 7780, folders: [], trusted: [], peers: [], ...extra }, null, 2),
      );
    },
  };
}

function smtpSection(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    starttls: 'never',
    from: 'synker on nas <synker@nas.test>',
    to: ['owner@example.test', 'admin@example.test'],
    clientName: 'nas.test',
    timeout: '5s',
    ...extra,
  };
}

test('synker test-email sends a sample to every recipient, or to --to', async (t) => {
  const s = await setup(t);
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  await s.writeConfig({ smtp: smtpSection(server.port) });

  const result = await runSynker(['test-email'], { env: s.env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /sent a test e-mail to owner@example\.test, admin@example\.test through 127\.0\.0\.1:\d+/);
  assert.equal(server.received.length, 1);
  const mail = await server.parsed(0);
  assert.equal(mail.subject, 'synker test e-mail from nas');
  assert.match(mail.text ?? '', /If you can read this, synker on nas can send you its backup reports\./);

  const one = await runSynker(['test-email', '--to', 'me@example.test'], { env: s.env });
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(server.received[1]!.to, ['me@example.test']);
});

test('synker test-email names the setting to fix', async (t) => {
  const s = await setup(t);
  const port = REFUSED_PORT;
  await s.writeConfig({ smtp: smtpSection(port) });
  const down = await runSynker(['test-email'], { env: s.env });
  assert.equal(down.code, 2);
  assert.match(down.stderr, new RegExp(`error: the mail server 127\\.0\\.0\\.1:${port} refused the connection`));
  assert.match(down.stderr, /hint: Check smtp\.host and smtp\.port/);

  const passwordFile = path.join(s.dataDir, '..', 'smtp-password');
  await writeFile(passwordFile, 'secret\n', { mode: 0o644 });
  await s.writeConfig({ smtp: smtpSection(port, { user: 'synker', passwordFile: path.resolve(passwordFile) }) });
  const open = await runSynker(['test-email'], { env: s.env });
  assert.equal(open.code, 2);
  assert.match(open.stderr, /error: smtp\.passwordFile .* can be read by other users \(mode 644\)/);
  assert.match(open.stderr, /hint: Run: chmod 600 /);
  assert.doesNotMatch(open.stderr + open.stdout, /secret/);

  const badTo = await runSynker(['test-email', '--to', 'bad address'], { env: s.env });
  assert.equal(badTo.code, 2);
  assert.match(badTo.stderr, /error: --to bad address: not an e-mail address/);
  assert.doesNotMatch(badTo.stderr, /smtp\.to/);

  await s.writeConfig({});
  const none = await runSynker(['test-email'], { env: s.env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error: e-mail is not set up: the config has no "smtp" section/);
});

test('synker outbox lists what waits and --send delivers it once', async (t) => {
  const s = await setup(t);
  const port = REFUSED_PORT;
  await s.writeConfig({ smtp: smtpSection(port) });
  const outbox = new Outbox(outboxDir(s.dataDir));
  const message = await composeMessage(
    testSmtpSettings(port),
    { subject: 'Backup of pictures on nas: 3 files missing (3 B)', text: 't', html: '<p>t</p>' },
    'report:pictures:x',
    new Date(),
  );
  await outbox.add(message);

  const listed = await runSynker(['outbox'], { env: s.env });
  assert.equal(listed.code, 1, 'messages wait');
  assert.match(listed.stdout, /QUEUED\s+TRIES\s+TO\s+SUBJECT/);
  assert.match(listed.stdout, /Backup of pictures on nas: 3 files missing \(3 B\)/);

  const failed = await runSynker(['outbox', '--send'], { env: s.env });
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /error: the mail server 127\.0\.0\.1:\d+ refused the connection/);
  const json = JSON.parse((await runSynker(['outbox', '--json'], { env: s.env })).stdout) as {
    waiting: Array<{ attempts: number; lastError: { code: string } }>;
  };
  assert.equal(json.waiting.length, 1);
  assert.equal(json.waiting[0]!.attempts, 1);
  assert.equal(json.waiting[0]!.lastError.code, 'E_SMTP_CONNECT');

  // The server is back (on a port of its own choosing: a port cannot be held closed and then reused safely).
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  await s.writeConfig({ smtp: smtpSection(server.port) });
  const sent = await runSynker(['outbox', '--send'], { env: s.env });
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /sent: Backup of pictures on nas: 3 files missing/);
  assert.equal(server.received.length, 1);
  const empty = await runSynker(['outbox', '--send'], { env: s.env });
  assert.equal(empty.code, 0);
  assert.match(empty.stdout, /the outbox is empty/);
  assert.equal(server.received.length, 1, 'delivered once');
});

test('synker outbox --send while another process holds the outbox does not claim that process is the agent', async (t) => {
  const s = await setup(t);
  const port = REFUSED_PORT;
  await s.writeConfig({ smtp: smtpSection(port) });
  const outbox = new Outbox(outboxDir(s.dataDir));
  const message = await composeMessage(
    testSmtpSettings(port),
    { subject: 'Backup of pictures on nas: complete', text: 't', html: '<p>t</p>' },
    'report:pictures:y',
    new Date(),
  );
  await outbox.add(message);
  // A live process (this test) holds the lock, as a second `outbox --send` would.
  await writeFile(path.join(outboxDir(s.dataDir), '.lock'), `${process.pid}\n`);
  const busy = await runSynker(['outbox', '--send'], { env: s.env });
  assert.match(busy.stdout, /^another synker process is sending right now; run again in a moment$/m);
  assert.doesNotMatch(busy.stdout, /agent/);
});

test('synker status shows each folder, its last check, next check and the outbox', async (t) => {
  const s = await setup(t);
  const backupDir = path.join(s.dataDir, '..', 'pictures');
  const sourceDir = path.join(s.dataDir, '..', 'documents');
  await s.writeConfig({
    folders: [
      { id: 'pictures', path: path.resolve(backupDir), role: 'backup', shareWith: [] },
      { id: 'documents', path: path.resolve(sourceDir), role: 'source', shareWith: [] },
    ],
    schedule: { check: '17 3 * * *', timezone: 'UTC' },
  });
  const now = Date.now();
  const iso = (ms: number): string => new Date(ms).toISOString();
  await new ScheduleStateStore(scheduleStateFile(s.dataDir)).save({
    version: 1,
    folders: {
      pictures: {
        firstSeenAt: iso(now - 10 * 86_400_000),
        lastAttemptAt: iso(now - 3_600_000),
        lastResult: { status: 'differences', at: iso(now - 3_600_000), summary: '12 files missing (340 MiB)', differences: 12 },
        lastVerified: { status: 'differences', at: iso(now - 3_600_000), summary: '12 files missing (340 MiB)', differences: 12 },
        lastMailedStatus: 'differences',
      },
    },
  });

  const json = await runSynker(['status', '--json'], { env: s.env });
  assert.equal(json.code, 1, 'differences need attention');
  const status = JSON.parse(json.stdout) as {
    folders: Array<{ id: string; role: string; lastVerified: { summary: string } | null; nextCheck: string | null }>;
    outbox: { waiting: number };
  };
  const pictures = status.folders.find((f) => f.id === 'pictures')!;
  assert.equal(pictures.role, 'backup');
  assert.equal(pictures.lastVerified?.summary, '12 files missing (340 MiB)');
  assert.match(pictures.nextCheck ?? '', /T03:17:00\.000Z$/);
  assert.equal(status.folders.find((f) => f.id === 'documents')!.nextCheck, null);
  assert.equal(status.outbox.waiting, 0);

  const text = await runSynker(['status'], { env: s.env });
  assert.match(text.stdout, /FOLDER\s+ROLE\s+PEERS\s+LAST SCHEDULED CHECK\s+LAST VERIFIED\s+NEXT CHECK/);
  assert.match(text.stdout, /pictures\s+backup\s+-\s+.*12 files missing \(340 MiB\)/);
  assert.match(text.stdout, /documents\s+source\s+-\s+\(checked by the backup\)/);
  assert.match(text.stdout, /outbox: no message waiting\n/);
});

test('synker status needs attention as soon as the last scheduled check failed, before any alert', async () => {
  const { needsAttention } = await import('../../src/schedule/status.js');
  const complete = { status: 'complete' as const, at: '2026-11-26T03:17:00Z', summary: 'complete' };
  const folder = {
    id: 'photos',
    role: 'backup' as const,
    path: '/b',
    peers: [],
    lastCheck: complete,
    lastVerified: complete,
    nextCheck: null,
    overdue: false,
    staleAlertAt: null,
    problem: null,
    backups: [],
  };
  const report = {
    folders: [folder],
    outbox: { waiting: 0, oldest: null, damaged: 0 },
    schedule: { check: '17 3 * * *', timezone: null, email: 'on-difference' as const },
  };
  assert.equal(needsAttention(report), false);
  const failed = { ...folder, lastCheck: { status: 'error' as const, at: '2026-11-27T03:17:00Z', summary: 'source unreachable' } };
  assert.equal(needsAttention({ ...report, folders: [failed] }), true);
  // A check run by hand that verified the backup after the failed scheduled one (or after the alert) answers for it.
  const byHand = { status: 'complete' as const, at: '2026-11-27T09:00:00Z', summary: 'complete', by: 'manual-check' as const };
  assert.equal(needsAttention({ ...report, folders: [{ ...failed, lastVerified: byHand }] }), false);
  assert.equal(needsAttention({ ...report, folders: [{ ...failed, lastVerified: byHand, staleAlertAt: '2026-11-27T04:00:00Z' }] }), false);
  assert.equal(
    needsAttention({ ...report, folders: [{ ...failed, lastVerified: byHand, staleAlertAt: '2026-11-27T10:00:00Z' }] }),
    true,
    'an alert sent after the last verification stands',
  );
  assert.equal(
    needsAttention({ ...report, folders: [{ ...failed, lastVerified: { ...byHand, at: '2026-11-27T01:00:00Z' } }] }),
    true,
    'a verification before the failed scheduled check does not answer for it',
  );
  assert.equal(
    needsAttention({ ...report, outbox: { ...report.outbox, damaged: 1 } }),
    true,
    'a damaged outbox message will never be sent',
  );
  assert.equal(
    needsAttention({
      ...report,
      folders: [{ ...folder, problem: { code: 'E_FOLDER_ABSENT', message: 'folder "b" is absent', hint: null } }],
    }),
    true,
    'a folder whose disk is not mounted needs attention, however well it was verified before',
  );
});

test('synker outbox and status name a damaged message file instead of saying every report was sent', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const dir = outboxDir(path.join(home, 'synker', 'data'));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '0123456789abcdef01234567.json'), '{bad');
  const listed = await runSynker(['outbox'], { env });
  assert.equal(listed.code, 2, listed.stdout + listed.stderr);
  assert.doesNotMatch(listed.stdout, /every report was sent/);
  assert.match(
    listed.stderr,
    /error: a message file in the outbox is damaged and will never be sent: .*0123456789abcdef01234567\.json\nhint: They are kept as they are, never deleted/,
  );
  const json = JSON.parse((await runSynker(['outbox', '--json'], { env })).stdout) as { damaged: string[] };
  assert.equal(json.damaged.length, 1);
  const status = await runSynker(['status'], { env });
  assert.equal(status.code, 1, status.stderr);
  assert.match(status.stdout, /^outbox: no message waiting, 1 damaged message file that will never be sent \(synker outbox names them\)$/m);
  assert.equal(status.stdout.match(/^outbox:/gm)?.length, 1, 'one outbox line');
  assert.doesNotMatch(status.stdout, /outbox: empty/);
});
