/**
 * `synker demo --keep-open` (what `npm start -- --keep-open` runs) prints the
 * backup's status page address with its token while it runs, and keeps the
 * page up after the last step until Ctrl-C: the page then shows the demo's
 * folder verified complete, after the check, the sync and the check again.
 * mDNS stays on the loopback interface (the demo's own rule).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

function getJson(url: URL, token: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

test('the demo prints the status page address while it runs and keeps it open with --keep-open', { timeout: 240_000 }, async (t) => {
  const work = await tempDir(t);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: work, SYNKER_HOME: path.join(work, 'unused-home'), NO_COLOR: '1' };
  delete env.SYNKER_LOG;
  const demo = spawn(process.execPath, [SYNKER_BIN, 'demo', '--dir', path.join(work, 'demo'), '--keep-open'], {
    env,
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  demo.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  const kept = await new Promise<string>((resolve, reject) => {
    demo.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /The backup's status page stays open at (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`the demo exited (${code}) before keeping its page open:\n${out}\n${err}`)));
  });
  // Printed early, before the first check, the same address.
  const early = out.indexOf(kept);
  assert.ok(early >= 0 && early < out.indexOf('4. On the backup'), `the address comes before the checks:\n${out}`);
  const url = new URL(kept);
  const token = /^#token=([0-9a-f]{64})$/.exec(url.hash)![1]!;
  const status = await getJson(new URL('/api/v1/status', url), token);
  assert.equal(status.status, 200);
  const family = (status.json as { folders: Array<{ id: string; verdict: string }> }).folders.find((f) => f.id === 'family');
  assert.equal(family?.verdict, 'complete', JSON.stringify(status.json));
  // The demo's agents run without their schedule: the page must not offer "check now" (it would be refused).
  assert.equal((family as unknown as { actions: { check: boolean } }).actions.check, false, 'no "check now" without a schedule');
  const history = await getJson(new URL('/api/v1/folders/family/history', url), token);
  assert.deepEqual(
    (history.json as { checks: Array<{ status: string; by: string }> }).checks.map((c) => `${c.by} ${c.status}`),
    ['manual-check differences', 'manual-sync complete', 'manual-check complete'],
  );
  demo.kill('SIGINT');
  assert.equal(await exited, 0, `${out}\n${err}`);
  await assert.rejects(getJson(new URL('/api/v1/status', url), token), 'the page is gone with the demo');
});
