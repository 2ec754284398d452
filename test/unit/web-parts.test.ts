/**
 * The status page's parts on their own: the one verdict rule, "check now" in
 * the scheduler (one at a time, refused while it runs, recorded like a
 * scheduled check), Prometheus label escaping, the bound on an event stream
 * whose client does not read, the token file, and the `web` config section.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigValidationError, validateConfig } from '../../src/config/validate.js';
import { DEFAULT_SCHEDULE } from '../../src/config/schedule.js';
import { CheckScheduler } from '../../src/schedule/scheduler.js';
import { ScheduleStateStore, type CheckResultSummary } from '../../src/schedule/state.js';
import { folderVerdict, VERDICT_ORDER } from '../../src/schedule/status.js';
import { WebEvents, MAX_BUFFERED } from '../../src/web/events.js';
import { escapeLabel, renderMetrics } from '../../src/web/metrics.js';
import { isToken, webToken } from '../../src/web/token.js';
import { ManualClock } from '../harness/clock.js';
import { tempDir } from '../harness/tmp.js';

const at = (h: number): string => new Date(Date.UTC(2026, 11, 1, h)).toISOString();
const result = (status: CheckResultSummary['status'], hour: number): CheckResultSummary => ({ status, at: at(hour), summary: status });
const backup = { role: 'backup' as const, lastCheck: null, lastVerified: null, staleAlertAt: null, problem: null };

test('folderVerdict: one word for each state of a folder', () => {
  assert.equal(folderVerdict(backup), 'not-verified');
  assert.equal(folderVerdict({ ...backup, lastCheck: result('complete', 1), lastVerified: result('complete', 1) }), 'complete');
  assert.equal(folderVerdict({ ...backup, lastCheck: result('differences', 1), lastVerified: result('differences', 1) }), 'incomplete');
  assert.equal(folderVerdict({ ...backup, lastCheck: result('error', 2), lastVerified: result('complete', 1) }), 'failed');
  assert.equal(folderVerdict({ ...backup, lastCheck: result('error', 2) }), 'failed', 'never verified, and the check failed');
  assert.equal(
    folderVerdict({ ...backup, lastCheck: result('error', 2), lastVerified: result('complete', 3) }),
    'complete',
    'a later verification (by hand) answers for the failed scheduled check',
  );
  assert.equal(folderVerdict({ ...backup, lastVerified: result('complete', 1), staleAlertAt: at(5) }), 'stale');
  assert.equal(
    folderVerdict({ ...backup, lastVerified: result('complete', 6), staleAlertAt: at(5) }),
    'complete',
    'verified since the alert',
  );
  const problem = { code: 'E_FOLDER_ABSENT', message: 'absent', hint: null };
  assert.equal(folderVerdict({ ...backup, lastVerified: result('complete', 1), problem }), 'absent');
  const source = { ...backup, role: 'source' as const };
  assert.equal(folderVerdict(source), 'not-verified', 'a source no backup told anything');
  assert.equal(folderVerdict({ ...source, backups: [{ verdict: 'complete' }, { verdict: 'stale' }] }), 'stale', 'the worst of its backups');
  assert.equal(folderVerdict({ ...source, backups: [{ verdict: 'complete' }] }), 'complete');
  assert.equal(folderVerdict({ ...source, problem }), 'absent');
});

test("checkNow runs the schedule's check at once, one at a time, refusing a second while it runs or waits", async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
  const store = new ScheduleStateStore(path.join(await tempDir(t), 'schedule.json'));
  const runs: string[] = [];
  const gates: Array<() => void> = [];
  const recorded: string[] = [];
  const scheduler = new CheckScheduler<string>({
    settings: { ...DEFAULT_SCHEDULE, check: '17 3 * * *', timezone: 'UTC' },
    clock,
    store,
    folders: () => ['a', 'b'],
    runCheck: async (folder) => {
      runs.push(folder);
      await new Promise<void>((resolve) => gates.push(resolve));
      return { summary: { status: 'complete', at: new Date(clock.now()).toISOString(), summary: 'complete' } };
    },
    notify: async () => {},
    record: async (folder) => {
      recorded.push(folder);
    },
  });
  assert.equal(scheduler.checkNow('a'), undefined);
  assert.equal(scheduler.checkNow('a'), 'running', 'a second one while it waits or runs');
  assert.equal(scheduler.checkNow('b'), undefined, 'another folder queues behind it');
  while (runs.length === 0) await new Promise((r) => setImmediate(r));
  assert.deepEqual(runs, ['a']);
  assert.equal(scheduler.checkNow('a'), 'running');
  gates.shift()!();
  while (runs.length < 2) await new Promise((r) => setImmediate(r));
  assert.deepEqual(runs, ['a', 'b'], 'one at a time');
  gates.shift()!();
  await scheduler.stop();
  assert.deepEqual(recorded, ['a', 'b']);
  assert.equal((await store.load()).folders.a?.lastVerified?.status, 'complete', 'recorded as the schedule records its checks');
  assert.equal(scheduler.checkNow('a'), 'stopped');
});

test('metrics: label values escaped as the Prometheus text format says', () => {
  assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const text = renderMetrics(
    [
      {
        id: 'photos',
        role: 'source',
        path: '/p',
        peers: [],
        lastCheck: null,
        lastVerified: null,
        lastRun: null,
        lastCompleteAt: '2026-12-01T00:00:00.000Z',
        notCompleteSince: null,
        nextCheck: null,
        overdue: false,
        staleAlertAt: null,
        problem: null,
        verdict: 'complete',
        backups: [
          {
            device: { id: 'X', name: 'nas "2"\\\n' },
            lastVerified: { status: 'complete', at: '2026-12-01T00:00:00.000Z', summary: 'complete', differences: 0, bytesMissing: 0 },
            lastAttempt: null,
            lastCompleteAt: '2026-12-01T00:00:00.000Z',
            notCompleteSince: null,
            stale: false,
            verdict: 'complete',
          },
        ],
        actions: { check: false, report: false },
      },
    ],
    'laptop',
    3,
  );
  assert.match(text, /^synker_folder_complete\{folder="photos",role="source",device="nas \\"2\\"\\\\\\n"\} 1$/m);
  assert.match(text, /^synker_folder_last_verified_timestamp_seconds\{[^}]*\} 1796083200$/m);
  assert.match(text, /^synker_outbox_messages 3$/m);
});

test('metrics: synker_folder_complete follows the verdict: a failed run after a complete verification is 0', () => {
  const verified = { status: 'complete' as const, at: '2026-12-01T00:00:00.000Z', summary: 'complete', differences: 0, bytesMissing: 0 };
  const failedRun = {
    status: 'error' as const,
    at: '2026-12-01T01:00:00.000Z',
    summary: 'source unreachable',
    by: 'manual-check' as const,
  };
  const folder = {
    id: 'docs',
    role: 'backup' as const,
    path: '/d',
    peers: [],
    lastCheck: verified,
    lastVerified: verified,
    lastRun: failedRun,
    lastCompleteAt: verified.at,
    notCompleteSince: failedRun.at,
    nextCheck: null,
    overdue: false,
    staleAlertAt: null,
    problem: null,
    verdict: 'failed' as const,
    backups: [],
    actions: { check: true, report: false },
  };
  const text = renderMetrics([folder], 'nas', 0);
  assert.match(text, /^synker_folder_complete\{folder="docs",role="backup",device="nas"\} 0$/m, 'as synker status and the page say');
  assert.match(renderMetrics([{ ...folder, verdict: 'complete' }], 'nas', 0), /^synker_folder_complete\{[^}]*\} 1$/m);
});

test('an event stream whose client does not read is closed, not buffered without end', async (t) => {
  const events = new WebEvents();
  let stream: http.ServerResponse | undefined;
  const server = http.createServer((_req, res) => {
    stream = res;
    assert.ok(events.open(res, {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent: false }, (res) => {
    res.pause(); // a client that never reads
  });
  req.on('error', () => undefined);
  t.after(() => {
    req.destroy();
    events.close();
    server.closeAllConnections();
    server.close();
  });
  while (events.size === 0) await new Promise((r) => setImmediate(r));
  const folder = 'x'.repeat(1000);
  let sent = 0;
  // Far more than the socket buffers and MAX_BUFFERED hold: the stream must go before all of it is queued.
  while (events.size > 0 && sent < 100_000) {
    events.checkEnded({ folder, at: '2026-12-01T00:00:00.000Z', status: 'complete' });
    sent++;
    if (sent % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(events.size, 0, `the stream was still open after ${sent} events`);
  assert.ok(stream?.destroyed, 'and its response destroyed');
  assert.ok(sent * 1000 > MAX_BUFFERED, `dropped after ${sent} events`);
});

test('the token: 32 random bytes made once, owner-only, compared whole', async (t) => {
  const dir = await tempDir(t);
  const token = await webToken(dir);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(await webToken(dir), token, 'the same token after a restart');
  assert.equal(statSync(path.join(dir, 'web-token')).mode & 0o777, 0o600);
  assert.ok(isToken(token, token));
  assert.ok(!isToken(token.slice(0, 63), token));
  assert.ok(!isToken(`${token}0`, token));
  assert.ok(!isToken(undefined, token));
  const other = await tempDir(t);
  assert.notEqual(await webToken(other), token);
  writeFileSync(path.join(other, 'web-token'), 'not a token\n');
  await assert.rejects(webToken(other), /does not hold a status page token/);
});

test("the config's web section: port, listen address, enabled; anything else refused", () => {
  const base = { version: 1, name: 'nas' };
  assert.deepEqual(validateConfig({ ...base, web: { port: 8080, listen: '192.168.1.2', enabled: false } }, 'h').web, {
    port: 8080,
    listen: '192.168.1.2',
    enabled: false,
  });
  assert.equal(validateConfig(base, 'h').web, undefined);
  for (const web of [{ port: 70000 }, { listen: 'example.com' }, { enabled: 'yes' }, { prot: 1 }, 'on'])
    assert.throws(
      () => validateConfig({ ...base, web }, 'h'),
      (err: unknown) => err instanceof ConfigValidationError && err.issues.length === 1 && err.issues[0]!.path[0] === 'web',
      JSON.stringify(web),
    );
});

test("the page's verdict badges: every verdict drawn, none a character that needs a font (⏱ was an empty box)", () => {
  const app = readFileSync(fileURLToPath(new URL('../../../src/web/assets/app.js', import.meta.url)), 'utf8');
  const start = app.indexOf('const VERDICT = {');
  const table = app.slice(start, app.indexOf('\n};\n', start));
  assert.ok(start >= 0 && table.length > 0, 'the table of verdicts is in app.js');
  for (const verdict of VERDICT_ORDER)
    assert.match(table, new RegExp(`\\n  '?${verdict}'?: \\{\\s*word: '${verdict.replace('-', ' ')}',\\s*icon: `), `${verdict} drawn`);
  assert.doesNotMatch(table, /[^\x20-\x7e\n]/, 'ASCII only: symbols are drawn, not written');
});
