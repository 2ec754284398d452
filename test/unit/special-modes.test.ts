/**
 * setuid, setgid and sticky bits are never copied (base/mode-bits.ts); the
 * report says when the source has them, on the terminal, in the JSON and in
 * the e-mail, and the backup's copy with the rest of the mode is complete.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests } from '../../src/diff/index.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { buildReport, type CheckReport } from '../../src/report/model.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { dir, file, stream } from '../harness/manifest.js';

const CTX = { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' };

async function reportOf(source: ManifestEntry[], backup: ManifestEntry[]): Promise<CheckReport> {
  const diff = await diffManifests(stream(source), stream(backup));
  return buildReport({
    folderId: 'tools',
    startedAt: new Date('2026-01-15T10:00:00Z'),
    finishedAt: new Date('2026-01-15T10:00:02Z'),
    source: { name: 'laptop', deviceId: 'A'.repeat(56), location: '127.0.0.1:7780', scan: null },
    backup: { name: 'nas', deviceId: 'B'.repeat(56), location: '/srv/tools', scan: null },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

test('source entries with setuid, setgid or sticky bits are named in every report, and the backup without them is complete', async () => {
  const report = await reportOf(
    [
      file('bin/su', 'x', { mode: 0o4755 }),
      file('bin/wall', 'y', { mode: 0o2755 }),
      dir('bin'),
      dir('shared', { mode: 0o1777 }),
      dir('tmp\u001b[2J', { mode: 0o1777 }),
      file('plain.txt', 'z'),
    ],
    [
      file('bin/su', 'x', { mode: 0o755 }),
      file('bin/wall', 'y', { mode: 0o755 }),
      dir('bin'),
      dir('shared', { mode: 0o775 }),
      dir('tmp\u001b[2J', { mode: 0o775 }),
      file('plain.txt', 'z'),
    ],
  );
  assert.equal(report.summary.failing, 0);
  assert.equal(report.summary.specialModes.count, 4);
  assert.deepEqual(report.summary.specialModes.examples, ['bin/su', 'bin/wall', 'shared']);
  const terminal = renderTerminal(report, { color: false, all: false });
  assert.match(terminal, /backup complete/);
  assert.match(
    terminal,
    /note: 4 files or folders on the source have setuid, setgid or sticky bits, which synker never copies \(bin\/su, bin\/wall, shared, …\)/,
  );
  const mail = renderReportEmail(report, CTX);
  assert.match(mail.text, /Note: 4 files or folders on the source have setuid, setgid or sticky bits/);
  assert.match(mail.html, /Note: 4 files or folders on the source have setuid/);
  assert.equal(JSON.parse(JSON.stringify(report)).summary.specialModes.count, 4);

  const none = await reportOf([file('plain.txt', 'z')], [file('plain.txt', 'z')]);
  assert.equal(none.summary.specialModes.count, 0);
  assert.doesNotMatch(renderTerminal(none, { color: false, all: false }), /setuid/);
});
