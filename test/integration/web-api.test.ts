/**
 * The status page's API against a real backup agent on loopback (its
 * schedule on, --no-discovery) and a real source agent: every answer's JSON
 * against the shapes docs/api.md declares (test/harness/api-shapes.ts reads
 * them from the doc), the token, the Host check, CSRF, no CORS, the security
 * headers, bounded requests, hostile names as JSON strings, Prometheus
 * metrics, server-sent events after a real "check now", the page's address
 * from `synker ui --no-open`, and nothing listening beyond loopback.
 *
 * Longer than 300 lines: one agent pair set up once serves every check of
 * the API, each a subtest of its own.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { writeTree } from '../harness/check-pair.js';
import { configureCliPair, scheduleBackupYearly, startCliAgent, startWebAgent } from '../harness/cli-pair.js';
import { ApiShapes } from '../harness/api-shapes.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import { TERMINAL_HOSTILE_NAMES } from '../harness/hostile-names.js';
import { TestSmtpServer } from '../harness/smtp.js';

/** The terminal tests' hostile names (hostile-names-everywhere.test.ts), and markup. */
const HOSTILE = [...TERMINAL_HOSTILE_NAMES, '<b onmouseover=alert(1)>bold&amp;', '"><img src=x onerror=alert(2)>'];

const ASSETS = fileURLToPath(new URL('../../../src/web/assets/', import.meta.url));

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

function request(
  port: number,
  urlPath: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A server-sent event stream: its events, parsed, as they come. */
function openEvents(port: number, token: string): Promise<{ next(name: string): Promise<unknown>; close(): void; raw(): string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { Authorization: `Bearer ${token}` }, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
      let buffer = '';
      let all = '';
      const events: Array<{ name: string; data: unknown }> = [];
      const waiting: Array<{ name: string; resolve: (v: unknown) => void }> = [];
      const deliver = (): void => {
        for (const w of [...waiting]) {
          const i = events.findIndex((e) => e.name === w.name);
          if (i >= 0) {
            w.resolve(events.splice(i, 1)[0]!.data);
            waiting.splice(waiting.indexOf(w), 1);
          }
        }
      };
      res.setEncoding('utf8').on('data', (d: string) => {
        buffer += d;
        all += d;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (name !== undefined && data !== undefined) events.push({ name, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
        deliver();
      });
      resolve({
        next: (name) =>
          new Promise((r) => {
            waiting.push({ name, resolve: r });
            deliver();
          }),
        close: () => req.destroy(),
        raw: () => all,
      });
    });
  });
}

/** The local addresses (and ports) the process `pid` listens on over TCP, from /proc/net/tcp{,6}. */
function listeningAddresses(pid: number): Array<{ address: string; port: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const found: Array<{ address: string; port: number }> = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A' || !inodes.has(cols[9]!)) continue; // 0A: LISTEN
      const [hex, portHex] = cols[1]!.split(':') as [string, string];
      found.push({ address: v6 ? ipv6(hex) : ipv4(hex), port: Number.parseInt(portHex, 16) });
    }
  }
  return found;
}

function ipv4(hex: string): string {
  return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
}

function ipv6(hex: string): string {
  // Four 32-bit words, each little-endian.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(hex.slice(w * 8 + b * 2, w * 8 + b * 2 + 2), 16));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** Prometheus text format: every sample line parsed (name, labels with their escapes undone, value). */
function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n').slice(0, -1)) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?[0-9.e+]+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const NO_CORS = (a: Answer, what: string): void => {
  for (const h of Object.keys(a.headers)) assert.ok(!h.startsWith('access-control-'), `${what}: a CORS header ${h}`);
};

test('the status page API: shapes per docs/api.md, token, Host, CSRF, no CORS, events after a real check, metrics, hostile names', {
  timeout: 180_000,
}, async (t) => {
  const shapes = new ApiShapes();
  // The checker itself fails on what the doc does not say.
  assert.notDeepEqual(shapes.check({ api: 1, started: true, extra: 1 }, 'CheckStarted'), []);
  assert.notDeepEqual(shapes.check({ api: 1 }, 'CheckStarted'), []);
  assert.notDeepEqual(shapes.check({ api: 1, error: { code: 'E', message: 1 } }, 'Error'), []);

  const dir = await tempDir(t);
  const files: Record<string, string> = { 'ok.txt': 'ok', 'big.bin': 'x'.repeat(5000) };
  for (const name of HOSTILE) files[name] = `hostile ${name}`;
  // One runtime folder: the backup's checks find the source's agent on this machine, no network discovery.
  const { sourceEnv, backupEnv } = await configureCliPair(dir, files, { backupFiles: { 'ok.txt': 'ok' }, sharedRuntime: true });
  await scheduleBackupYearly(dir);
  const configFile = path.join(dir, 'nas', 'synker', 'config', 'config.json');

  await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--no-web']);
  const backup = await startWebAgent(t, backupEnv);
  const port = backup.port;
  const token = (await readFile(path.join(dir, 'nas', 'synker', 'data', 'web-token'), 'utf8')).trim();
  const auth = { Authorization: `Bearer ${token}` };
  const act = { ...auth, 'X-Synker-Token': token };

  await t.test('synker ui --no-open prints the address with the token; the token file is owner-only', async () => {
    const ui = await runSynker(['ui', '--no-open'], { env: backupEnv });
    assert.equal(ui.code, 0, ui.stderr);
    assert.equal(ui.stdout, `http://127.0.0.1:${port}/#token=${token}\n`, 'in the fragment, which no browser sends');
    assert.match(token, /^[0-9a-f]{64}$/);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(path.join(dir, 'nas', 'synker', 'data', 'web-token')).mode & 0o777, 0o600);
    // synker status --open: the status, then the same address (printed; tests never open a browser).
    const status = await runSynker(['status', '--open'], { env: backupEnv });
    assert.ok(status.stdout.endsWith(`\noutbox: no message waiting\nhttp://127.0.0.1:${port}/#token=${token}\n`), status.stdout);
    assert.match(status.stdout, /NEXT CHECK\s+VERDICT\n/);
    assert.match(status.stdout, /\nphotos\s+backup\s+laptop\s.*\snot-verified\n/, 'the same verdict word as the API');
    const json = await runSynker(['status', '--json', '--open'], { env: backupEnv });
    assert.equal((JSON.parse(json.stdout) as { folders: Array<{ verdict: string }> }).folders[0]!.verdict, 'not-verified');
    assert.match(json.stderr, new RegExp(`http://127\\.0\\.0\\.1:${port}/#token=${token}`), 'after --json, on stderr');
    // No agent for a home: a clear error saying how to start one.
    const none = await runSynker(['ui', '--no-open'], { env: isolatedEnv(path.join(dir, 'nobody')) });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no synker agent runs for this home[\s\S]*synker agent/);
  });

  await t.test(
    'synker ui when the browser cannot be opened: says so, with the address to open by hand; exit 0',
    {
      skip: process.platform === 'win32' || process.platform === 'darwin' ? 'xdg-open is the Linux opener' : false,
    },
    async () => {
      // xdg-open as a desktop without a browser answers it (exit 3: "a tool could not be found"), first on PATH.
      const bin = path.join(dir, 'opener-bin');
      const got = path.join(dir, 'opener-got');
      await writeTree(bin, {
        'xdg-open': `#!/bin/sh\nprintf '%s' "$1" > '${got}'\nexit "$OPENER_EXIT"\n`,
      });
      const { chmod } = await import('node:fs/promises');
      await chmod(path.join(bin, 'xdg-open'), 0o755);
      const env: NodeJS.ProcessEnv = { ...backupEnv, PATH: `${bin}${path.delimiter}${backupEnv.PATH}`, OPENER_EXIT: '3' };
      delete env.SYNKER_NO_BROWSER;
      const failed = await runSynker(['ui'], { env });
      assert.equal(failed.code, 0, 'the address is the result');
      assert.equal(failed.stdout, `http://127.0.0.1:${port}/#token=${token}\n`);
      assert.equal(await readFile(got, 'utf8'), `http://127.0.0.1:${port}/#token=${token}`, 'the opener got the address whole');
      assert.match(
        failed.stderr,
        new RegExp(
          `could not open a browser \\(xdg-open exited with code 3\\): open this address by hand:\\n  http://127\\.0\\.0\\.1:${port}/#token=${token}\\n`,
        ),
      );
      // An opener that did its job: nothing said.
      const opened = await runSynker(['ui'], { env: { ...env, OPENER_EXIT: '0' } });
      assert.equal(opened.code, 0);
      assert.doesNotMatch(opened.stderr, /could not open/);
      // No opener at all.
      const none = await runSynker(['ui'], { env: { ...env, PATH: path.join(dir, 'no-such-bin') } });
      assert.equal(none.code, 0);
      assert.match(none.stderr, /could not open a browser \(xdg-open: spawn xdg-open ENOENT\): open this address by hand/);
    },
  );

  await t.test('nothing listens beyond loopback: the page is on 127.0.0.1 only', () => {
    const listening = listeningAddresses(backup.process.pid!);
    const page = listening.filter((l) => l.port === port);
    assert.deepEqual(page, [{ address: '127.0.0.1', port }], JSON.stringify(listening));
    for (const l of listening) assert.ok(l.address === '127.0.0.1' || l.address === '0:0:0:0:0:0:0:1', `listens on ${l.address}:${l.port}`);
  });

  await t.test('without the token: 401 on every API path and /metrics; the page itself holds no data', async () => {
    for (const p of [
      '/api/v1/status',
      '/api/v1/session',
      '/api/v1/events',
      '/api/v1/folders/photos',
      '/api/v1/folders/photos/history',
      '/metrics',
    ]) {
      const a = await request(port, p);
      assert.equal(a.status, 401, p);
      assert.deepEqual(shapes.check(a.json, 'Error'), [], p);
      assert.equal((a.json as { error: { code: string } }).error.code, 'E_WEB_TOKEN');
      NO_CORS(a, p);
      const wrong = await request(port, p, { headers: { Authorization: `Bearer ${'0'.repeat(64)}` } });
      assert.equal(wrong.status, 401, `${p} with a wrong token`);
    }
    for (const p of ['/api/v1/folders/photos/check', '/api/v1/folders/photos/report']) {
      const a = await request(port, p, { method: 'POST', headers: { 'X-Synker-Token': '0'.repeat(64) } });
      assert.equal(a.status, 401, p);
    }
  });

  await t.test("the page's files: exactly those of src/web/assets, served without the token", async (st) => {
    if (!existsSync(ASSETS)) return st.skip(`${ASSETS} is not in this checkout (the page's files come from the w-page branch)`);
    for (const [p, file, type] of [
      ['/', 'index.html', /^text\/html; charset=utf-8$/],
      ['/app.js', 'app.js', /^text\/javascript; charset=utf-8$/],
      ['/style.css', 'style.css', /^text\/css; charset=utf-8$/],
    ] as const) {
      const a = await request(port, p);
      assert.equal(a.status, 200, p);
      assert.match(a.headers['content-type'] ?? '', type, p);
      assert.equal(a.text, readFileSync(path.join(ASSETS, file), 'utf8'), p);
    }
  });

  await t.test('a wrong Host header (DNS rebinding) is refused, with or without the token', async () => {
    for (const host of [`evil.example:${port}`, 'localhost', `127.0.0.1:${port + 1}`, `127.0.0.1.evil.example:${port}`]) {
      const a = await request(port, '/api/v1/status', { headers: { ...auth, Host: host } });
      assert.equal(a.status, 403, host);
      assert.equal((a.json as { error: { code: string } }).error.code, 'E_WEB_HOST');
      assert.equal((await request(port, '/', { headers: { Host: host } })).status, 403, `/ for ${host}`);
    }
    for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}`])
      assert.equal((await request(port, '/api/v1/status', { headers: { ...auth, Host: host } })).status, 200, host);
  });

  await t.test('the token is taken from the Authorization header only: never a cookie, never the query string', async () => {
    // The page is served as it is, with or without a token anywhere; it sets no cookie.
    for (const p of ['/', `/?token=${token}`]) {
      const a = await request(port, p);
      assert.equal(a.status, 200, p);
      assert.equal(a.headers['set-cookie'], undefined, p);
    }
    // A cookie is sent by browsers to every port of 127.0.0.1: it authorises nothing.
    const withCookie = await request(port, '/api/v1/status', { headers: { Cookie: `other=1; synker_token_${port}=${token}` } });
    assert.equal(withCookie.status, 401);
    assert.equal((withCookie.json as { error: { code: string } }).error.code, 'E_WEB_TOKEN');
    // In the query string it would land in logs and history: refused, even right and even with the header.
    for (const headers of [{}, auth]) {
      const inQuery = await request(port, `/api/v1/status?token=${token}`, { headers });
      assert.equal(inQuery.status, 400);
      assert.equal((inQuery.json as { error: { code: string } }).error.code, 'E_WEB_TOKEN');
    }
    assert.equal((await request(port, `/metrics?token=${token}`)).status, 400);
    const csrf = await request(port, '/api/v1/folders/photos/check', {
      method: 'POST',
      headers: { Cookie: `synker_token_${port}=${token}`, 'X-Synker-Token': token },
    });
    assert.equal(csrf.status, 401, 'a cookie and the action header: still no token');
    const bearerOnly = await request(port, '/api/v1/folders/photos/check', { method: 'POST', headers: auth });
    assert.equal(bearerOnly.status, 403, 'a POST without X-Synker-Token');
    assert.equal((bearerOnly.json as { error: { code: string } }).error.code, 'E_WEB_CSRF');
    const otherSite = await request(port, '/api/v1/folders/photos/check', {
      method: 'POST',
      headers: { ...act, Origin: 'http://evil.example' },
    });
    assert.equal(otherSite.status, 403, 'a POST from another origin');
    const session = await request(port, '/api/v1/session', { headers: auth });
    assert.deepEqual(shapes.check(session.json, 'Session'), []);
    assert.equal((session.json as { token: string }).token, token);
  });

  await t.test('static files: the fixed list only, no path reaches the file system; bounded bodies; 404 and 405', async () => {
    for (const p of [
      '/index.html',
      '/../../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/app.js',
      '/app.js/',
      '/etc/passwd',
      '//etc/passwd',
    ]) {
      const a = await request(port, p);
      assert.equal(a.status, 404, p);
      assert.deepEqual(shapes.check(a.json, 'Error'), [], p);
    }
    const big = await request(port, '/api/v1/folders/photos/check', { method: 'POST', headers: act, body: Buffer.alloc(5000, 120) });
    assert.equal(big.status, 413);
    const chunked = await request(port, '/api/v1/status', {
      method: 'GET',
      headers: { ...auth, 'Transfer-Encoding': 'chunked' },
      body: Buffer.alloc(6000, 120),
    });
    assert.equal(chunked.status, 413, 'a chunked body over the limit');
    const method = await request(port, '/api/v1/folders/photos/check', { headers: auth });
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'POST');
    assert.deepEqual(shapes.check(method.json, 'Error'), []);
    const days = await request(port, '/api/v1/folders/photos/history?days=abc', { headers: auth });
    assert.equal(days.status, 400);
  });

  await t.test('before any check: the status, the folder and its history have the documented shapes', async () => {
    const status = await request(port, '/api/v1/status', { headers: auth });
    assert.equal(status.status, 200);
    assert.deepEqual(shapes.check(status.json, 'Status'), []);
    const s = status.json as { folders: Array<{ id: string; verdict: string }>; device: { name: string } };
    assert.equal(s.device.name, 'nas');
    assert.equal(s.folders[0]!.verdict, 'not-verified');
    // A backup folder on an agent that runs its schedule: "check now" works; no e-mail and no report: no resend.
    assert.deepEqual((s.folders[0] as unknown as { actions: unknown }).actions, { check: true, report: false });
    const folder = await request(port, '/api/v1/folders/photos', { headers: auth });
    assert.deepEqual((folder.json as { folder: { actions: unknown } }).folder.actions, { check: true, report: false });
    assert.deepEqual(shapes.check(folder.json, 'FolderDetail'), []);
    assert.equal((folder.json as { lastReport: unknown }).lastReport, null);
    const history = await request(port, '/api/v1/folders/photos/history', { headers: auth });
    assert.deepEqual(shapes.check(history.json, 'History'), []);
    assert.deepEqual((history.json as { days: number; checks: unknown[] }).days, 90);
    const missing = await request(port, `/api/v1/folders/${encodeURIComponent(HOSTILE[6]!)}`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.match(missing.headers['content-type'] ?? '', /^application\/json/);
    assert.equal((missing.json as { error: { code: string } }).error.code, 'E_WEB_NO_FOLDER');
  });

  await t.test('every answer carries the security headers and no CORS header', async () => {
    for (const [p, headers] of [
      ['/', {}],
      ['/api/v1/status', auth],
      ['/metrics', auth],
      ['/nothing', {}],
    ] as const) {
      const a = await request(port, p, { headers: { ...headers, Origin: 'http://evil.example' } });
      NO_CORS(a, p);
      assert.equal(
        a.headers['content-security-policy'],
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        p,
      );
      assert.equal(a.headers['x-content-type-options'], 'nosniff', p);
      assert.equal(a.headers['referrer-policy'], 'no-referrer', p);
      if (p.startsWith('/api') || p === '/metrics') assert.equal(a.headers['cache-control'], 'no-store', p);
    }
  });

  await t.test(
    'check now: 202, a second one 409, then check-ended over server-sent events; the report with hostile names as JSON strings',
    async () => {
      const events = await openEvents(port, token);
      t.after(() => events.close());
      const started = await request(port, '/api/v1/folders/photos/check', { method: 'POST', headers: act });
      assert.equal(started.status, 202, started.text);
      assert.deepEqual(shapes.check(started.json, 'CheckStarted'), []);
      const again = await request(port, '/api/v1/folders/photos/check', { method: 'POST', headers: act });
      assert.equal(again.status, 409, again.text);
      assert.equal((again.json as { error: { code: string } }).error.code, 'E_WEB_CHECK_RUNNING');
      const ended = await events.next('check-ended');
      assert.deepEqual(shapes.check(ended, 'CheckEnded'), []);
      assert.equal((ended as { folder: string; status: string }).folder, 'photos');
      assert.equal((ended as { status: string }).status, 'differences');

      const status = await request(port, '/api/v1/status', { headers: auth });
      assert.deepEqual(shapes.check(status.json, 'Status'), []);
      const folder = (status.json as { folders: Array<{ verdict: string; lastVerified: { differences: number } }> }).folders[0]!;
      assert.equal(folder.verdict, 'incomplete');

      const detail = await request(port, '/api/v1/folders/photos', { headers: auth });
      assert.match(detail.headers['content-type'] ?? '', /^application\/json; charset=utf-8$/);
      assert.deepEqual(shapes.check(detail.json, 'FolderDetail'), []);
      const report = (detail.json as { lastReport: { categories: Array<{ items: Array<{ path: string }> }> } }).lastReport;
      const paths = report.categories.flatMap((c) => c.items.map((i) => i.path));
      for (const name of HOSTILE) assert.ok(paths.includes(name), `${JSON.stringify(name)} comes back as the same JSON string`);
      // JSON text (with nosniff, never read as markup): no raw control character outside a JSON escape.
      assert.equal(detail.headers['x-content-type-options'], 'nosniff');
      assert.doesNotMatch(detail.text, /[\u0000-\u001f]/);

      const history = await request(port, '/api/v1/folders/photos/history?days=7', { headers: auth });
      assert.deepEqual(shapes.check(history.json, 'History'), []);
      const checks = (history.json as { checks: Array<{ status: string }> }).checks;
      assert.deepEqual(
        checks.map((c) => c.status),
        ['differences'],
      );

      // The page's "check now" runs the schedule's check, refused on a source folder elsewhere; a config change is told too.
      await writeTree(path.join(dir, 'more'), { 'a.txt': 'a' });
      const add = await runSynker(['folder', 'add', 'more', path.join(dir, 'more'), '--role', 'backup', '--share', 'laptop'], {
        env: backupEnv,
      });
      assert.equal(add.code, 0, add.stderr);
      const changed = await events.next('status');
      assert.deepEqual(shapes.check(changed, 'StatusChanged'), []);
      assert.deepEqual(changed, { reason: 'config' });
    },
  );

  await t.test('metrics: Prometheus text, one series per backup folder, escaped labels', async () => {
    const a = await request(port, '/metrics', { headers: auth });
    assert.equal(a.status, 200);
    assert.match(a.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(a.text);
    const of = (name: string, folder: string) => samples.find((s) => s.name === name && s.labels.folder === folder);
    assert.deepEqual(of('synker_folder_complete', 'photos')?.labels, { folder: 'photos', role: 'backup', device: 'nas' });
    assert.equal(of('synker_folder_complete', 'photos')?.value, 0);
    assert.equal(of('synker_folder_differences', 'photos')?.value, HOSTILE.length + 1);
    assert.equal(
      of('synker_folder_bytes_missing', 'photos')?.value,
      5000 + HOSTILE.reduce((n, h) => n + Buffer.byteLength(`hostile ${h}`), 0),
    );
    const verified = of('synker_folder_last_verified_timestamp_seconds', 'photos')!.value;
    assert.ok(Math.abs(verified - Date.now() / 1000) < 600, `last verified ${verified}`);
    assert.equal(samples.find((s) => s.name === 'synker_outbox_messages')?.value, 0);
    assert.equal(of('synker_folder_complete', 'more')?.value, 0, 'the folder never verified is not complete');
    assert.equal(of('synker_folder_last_verified_timestamp_seconds', 'more'), undefined, 'nor has it a time');
  });

  await t.test('send the report again: 409 without e-mail set up; then 202, queued through the outbox and delivered', async (st) => {
    const none = await request(port, '/api/v1/folders/photos/report', { method: 'POST', headers: act });
    assert.equal(none.status, 409, none.text);
    assert.equal((none.json as { error: { code: string } }).error.code, 'E_WEB_NO_SMTP');
    const actions = async (id: string) =>
      ((await request(port, `/api/v1/folders/${id}`, { headers: auth })).json as { folder: { actions: { report: boolean } } }).folder
        .actions;
    assert.equal((await actions('photos')).report, false, 'a report is kept, but e-mail is not set up: not offered');
    const smtp = await new TestSmtpServer().start();
    st.after(() => smtp.stop());
    const events = await openEvents(port, token);
    st.after(() => events.close());
    const now = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    const section = {
      host: '127.0.0.1',
      port: smtp.port,
      starttls: 'never',
      from: 'synker <s@nas.test>',
      to: ['owner@example.test'],
      clientName: 'nas.test',
    };
    await writeFile(configFile, JSON.stringify({ ...now, smtp: section }, null, 2));
    assert.deepEqual(await events.next('status'), { reason: 'config' });
    assert.equal((await actions('photos')).report, true, 'e-mail set up and a report kept: offered');
    assert.equal((await actions('more')).report, false, 'never checked, no report: not offered');
    const noReport = await request(port, '/api/v1/folders/more/report', { method: 'POST', headers: act });
    assert.equal(noReport.status, 404, 'a folder never checked has no report to send');
    assert.equal((noReport.json as { error: { code: string } }).error.code, 'E_WEB_NO_REPORT');
    const sent = await request(port, '/api/v1/folders/photos/report', { method: 'POST', headers: act });
    assert.equal(sent.status, 202, sent.text);
    assert.deepEqual(shapes.check(sent.json, 'ReportQueued'), []);
    assert.deepEqual(await events.next('status'), { reason: 'outbox' }, 'queued');
    assert.deepEqual(await events.next('status'), { reason: 'outbox' }, 'delivered (or left waiting)');
    assert.equal(smtp.received.length, 1);
    const mail = await smtp.parsed(0);
    assert.match(mail.subject ?? '', /^Backup of photos on nas: .*missing.* \(sent again\)$/);
    const text = mail.text ?? '';
    assert.match(text, /Missing on backup: 9, /);
    assert.match(text, /esc\\u\{1b\}\[2J/, 'names escaped as in the terminal');
    assert.doesNotMatch(text, /\u001b/, 'no raw control character');
    assert.doesNotMatch(mail.html || '', /<b onmouseover/, 'markup in a name is text in the HTML part');
    // Asked again within the same minute: the same message, not sent twice (a new minute: a new one).
    const before = Math.floor(Date.now() / 60_000);
    const again = await request(port, '/api/v1/folders/photos/report', { method: 'POST', headers: act });
    const after = Math.floor(Date.now() / 60_000);
    assert.equal(again.status, 202);
    assert.deepEqual(await events.next('status'), { reason: 'outbox' });
    if (before === after) assert.equal(smtp.received.length, 1);
  });

  await t.test('an outbox changed by another process is told too (status event)', async (st) => {
    const events = await openEvents(port, token);
    st.after(() => events.close());
    // As another process would leave it: a message file the agent did not write (here, one it cannot read).
    await writeFile(path.join(dir, 'nas', 'synker', 'data', 'outbox', `${'a'.repeat(24)}.json`), 'not a message');
    assert.deepEqual(await events.next('status'), { reason: 'outbox' });
    const status = await request(port, '/api/v1/status', { headers: auth });
    assert.equal((status.json as { outbox: { damaged: number } }).outbox.damaged, 1);
  });

  await t.test('event streams are bounded: the 17th is refused with 503', async () => {
    const open: Array<{ close(): void }> = [];
    try {
      // One may still be open from the check test; open up to the limit.
      for (;;) {
        const a = await new Promise<number>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: auth, agent: false });
          req.on('error', reject);
          req.on('response', (res) => {
            if (res.statusCode === 200) open.push({ close: () => req.destroy() });
            else res.resume();
            resolve(res.statusCode!);
          });
        });
        if (a !== 200) {
          assert.equal(a, 503);
          break;
        }
        assert.ok(open.length <= 16, 'more than 16 streams were accepted');
      }
      assert.ok(open.length >= 15);
    } finally {
      for (const o of open) o.close();
    }
  });
});

test('a chosen web port that is taken stops the agent with E_WEB_PORT_IN_USE; the default one moves to the next free port', async (t) => {
  const dir = await tempDir(t);
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const taken = (holder.address() as net.AddressInfo).port;
  const env = isolatedEnv(path.join(dir, 'home'));
  const r = await runSynker(['agent', '--port', '0', '--no-discovery', '--no-schedule', '--web-port', String(taken)], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot serve the status page on 127\\.0\\.0\\.1:${taken}: another program holds that port`));
  assert.match(r.stderr, /--web-port/);

  // The default's rule, on the server itself: the taken port is skipped, the next free one taken.
  const { startWebServer } = await import('../../src/web/server.js');
  const { WebEvents } = await import('../../src/web/events.js');
  const { createLogger } = await import('../../src/base/log.js');
  const server = await startWebServer({
    source: {} as never,
    events: new WebEvents(),
    token: 'a'.repeat(64),
    host: '127.0.0.1',
    port: taken,
    tries: 10,
    logger: createLogger('web'),
  });
  t.after(() => server.close());
  assert.ok(server.port > taken && server.port < taken + 10, `took ${server.port} after ${taken}`);
});

test('another address only when asked (--web-listen), and still behind the token', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(path.join(dir, 'home'));
  const agent = await startWebAgent(t, env, { extra: ['--no-schedule', '--web-listen', '0.0.0.0'] });
  const page = listeningAddresses(agent.process.pid!).filter((l) => l.port === agent.port);
  assert.deepEqual(page, [{ address: '0.0.0.0', port: agent.port }]);
  assert.match(
    agent.log(),
    /the status page listens on 0\.0\.0\.0 \(--web-listen\): other machines can reach it; it still needs the token/,
  );
  const refused = await request(agent.port, '/api/v1/status');
  assert.equal(refused.status, 401);
  const token = (await readFile(path.join(dir, 'home', 'synker', 'data', 'web-token'), 'utf8')).trim();
  assert.equal((await request(agent.port, '/api/v1/status', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
});
