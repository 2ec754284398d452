/**
 * The staleness e-mail from the source's side (issue 22: "can come from
 * either side"): when no backup machine has verified a source folder within
 * staleAfter, the source's agent sends one alert; when one verifies it
 * again, one recovery mail; never a flood. On an injected clock, against a
 * real SMTP server, with the verdicts kept as the agent keeps them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { keepBackupVerdict } from '../../src/schedule/backup-verdicts.js';
import type { ScheduleConfigView } from '../../src/schedule/backup-schedule.js';
import { startSourceWatch } from '../../src/schedule/source-watch.js';
import { ScheduleStateStore } from '../../src/schedule/state.js';
import { collectStatus } from '../../src/schedule/status.js';
import type { SynkerConfig } from '../../src/config/types.js';
import { ManualClock } from '../harness/clock.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const HOUR = 3_600_000;
const NAS = 'A'.repeat(56);
const OFFICE = 'B'.repeat(56);

test('a source mails one "no backup verified it" alert after staleAfter, one recovery when a backup verifies it again, and nothing in between', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'data');
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const clock = new ManualClock(Date.parse('2026-11-20T12:00:00Z'));
  const config: ScheduleConfigView & Pick<SynkerConfig, 'peers' | 'port' | 'version'> = {
    version: 1,
    port: 0,
    peers: [],
    name: 'laptop',
    folders: [
      { id: 'pictures', path: path.join(dir, 'pictures'), role: 'source', shareWith: [NAS, OFFICE] },
      // No backup ever reported on this one: no alarm (an older synker on its backup tells nothing).
      { id: 'music', path: path.join(dir, 'music'), role: 'source', shareWith: [NAS] },
    ],
    trusted: [
      { deviceId: NAS, name: 'nas' },
      { deviceId: OFFICE, name: 'office\u202epc' },
    ],
    smtp: {
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      from: 'synker on laptop <synker@laptop.test>',
      to: ['owner@example.test'],
      clientName: 'laptop.test',
    },
    schedule: { staleAfter: '3d', timezone: 'UTC' },
  };
  const watch = startSourceWatch({ config: () => config, dataDir, clock, tickMs: HOUR });
  t.after(() => watch.stop());
  const tell = (deviceId: string, status: 'complete' | 'differences' | 'error', summary = status as string) =>
    keepBackupVerdict(
      dataDir,
      'pictures',
      { deviceId, name: deviceId === NAS ? 'nas' : 'office-pc' },
      { folder: 'pictures', at: clock.now(), status, summary, by: 'scheduled-check', ...(status === 'complete' ? { differences: 0 } : {}) },
      clock.now(),
    );
  const hours = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      clock.advance(HOUR);
      await watch.check();
    }
  };

  await tell(NAS, 'complete');
  await tell(OFFICE, 'differences', '2 files missing (4 MiB)');
  await hours(3 * 24);
  assert.equal(server.received.length, 0, 'verified exactly staleAfter ago is not past it');
  await hours(1);
  assert.equal(server.received.length, 1, 'one alert');
  const alert = await server.parsed(0);
  assert.equal(alert.subject, 'pictures on laptop: NO backup verified since 20 Nov');
  assert.match(alert.text ?? '', /No backup machine has verified pictures on laptop for 3 days and 1 hour/);
  assert.match(alert.text ?? '', /nas: last verified it .*: complete/);
  assert.match(alert.text ?? '', /office\\u\{202e\}pc: last verified it .*: 2 files missing \(4 MiB\)/, 'names escaped');
  const stored = await new ScheduleStateStore(path.join(dataDir, 'schedule.json')).load();
  assert.equal(stored.folders.pictures!.staleAlertAt, new Date(clock.now()).toISOString());
  assert.equal(stored.folders.music, undefined, 'a folder no backup reported on is not watched');

  // Failed attempts, and days passing: no second alert.
  await tell(NAS, 'error', 'the backup disk is not mounted');
  await hours(5 * 24);
  assert.equal(server.received.length, 1, 'once per episode');
  const status = await collectStatus(config as SynkerConfig, dataDir, clock.now());
  assert.notEqual(status.folders[0]!.staleAlertAt, null, 'the alert is in the status');

  // A backup verifies it: one recovery mail, at once (the agent asks the watch to look when a verdict is kept).
  await tell(OFFICE, 'complete');
  await watch.check();
  assert.equal(server.received.length, 2);
  const recovered = await server.parsed(1);
  assert.match(recovered.subject ?? '', /^pictures on laptop verified again by office\\u\{202e\}pc: complete$/);
  await hours(24);
  assert.equal(server.received.length, 2, 'no more mail while a backup keeps it verified');
  assert.equal((await new ScheduleStateStore(path.join(dataDir, 'schedule.json')).load()).folders.pictures!.staleAlertAt, undefined);
});
