/**
 * Sync over real sessions on 127.0.0.1: a real agent serving a real folder,
 * hostile sources and backups built from raw msgpackr, and a source killed
 * (SIGKILL) in the middle of a large file.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { diffManifests } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { connectToPeer, type PeerSession } from '../../src/peer/index.js';
import { applyPlan } from '../../src/sync/apply.js';
import type { ApplyResult } from '../../src/sync/apply-types.js';
import type { FileSource } from '../../src/transfer/file-source.js';
import { partialPathFor } from '../../src/sync/partial-files.js';
import { PeerFileSource } from '../../src/sync/peer-source.js';
import { planSync } from '../../src/sync/plan.js';
import { identities, isFrameOfType, rawClient, rawHello, startRawServer, startTestAgent } from '../harness/peers.js';
import { contentMap, listTree, sha256, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

async function* iterate<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}

/** What `synker sync` does once connected: manifest, diff, plan, apply over the same session. */
async function syncFrom(session: PeerSession, dst: string, wrap: (s: FileSource) => FileSource = (s) => s): Promise<ApplyResult> {
  const entries: ManifestEntry[] = [];
  for await (const e of session.requestManifest('photos', { files: true })) entries.push(e);
  const { differences, sourceTotals, backupTotals } = await diffManifests(iterate(entries), iterate(listTree(dst)));
  const plan = planSync(differences, { sourceFiles: sourceTotals.files, backupFiles: backupTotals.files });
  return applyPlan(plan, { root: dst, source: wrap(new PeerFileSource(session, 'photos')) });
}

/** An in-process agent serving `root` as folder "photos"; `ignored` paths are left out of its manifest. */
async function agentFor(t: TestContext, root: string, ignored: string[] = []) {
  const ids = await identities();
  const agent = await startTestAgent(ids.server, {
    trust: [ids.client.deviceId],
    entries: () => listTree(root).filter((e) => !ignored.includes(e.path)),
  });
  agent.directory.folderList[0]!.path = root;
  t.after(() => agent.server.close());
  const connect = async () => {
    const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: ids.client, expectDeviceId: ids.server.deviceId });
    t.after(() => session.close());
    return session;
  };
  return { agent, connect, ids };
}

test('a folder syncs over a session: many small files in flight and a large one, verified', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const spec: Record<string, string | Buffer> = { 'big/video.bin': randomBytes(5 * 1024 * 1024 + 3) };
  for (let i = 0; i < 300; i++) spec[`small/${String(i).padStart(3, '0')}.txt`] = `file ${i} `.repeat(i % 50);
  writeTree(src, spec);
  writeTree(dst, { 'small/000.txt': 'stale' });
  const { connect, agent } = await agentFor(t, src);
  const result = await syncFrom(await connect(), dst);
  assert.deepEqual(result.failed, []);
  assert.equal(result.aborted, undefined);
  assert.equal(result.pulled, 301);
  assert.deepEqual(contentMap(dst), contentMap(src));
  assert.ok(
    agent.log.lines.some((l) => /sent photos\/big\/video\.bin .*: 5242883 bytes from offset 0/.test(l)),
    'the source logs what it sent',
  );
});

test('a backup asking for ../../etc/passwd, an unlisted path or an unshared folder is refused', async (t) => {
  const src = await tempDir(t);
  writeTree(src, { 'a.txt': 'listed' });
  writeFileSync(path.join(src, 'secret.txt'), 'on disk but not in the manifest');
  const { agent, ids, connect } = await agentFor(t, src, ['secret.txt']);
  const hash = Buffer.alloc(32);
  const open = async () => {
    const raw = await rawClient(agent.port, ids.client);
    raw.send(rawHello(ids.client));
    await raw.waitFor(isFrameOfType(1));
    return raw;
  };
  // A file request before any manifest in this session.
  let raw = await open();
  raw.send([1, 16, { req: 1, folder: 'photos', path: 'a.txt', hash, size: 6, offset: 0 }]);
  assert.equal(((await raw.waitFor(isFrameOfType(2))) as [number, number, { code: string }])[2].code, 'E_FILE_NOT_IN_MANIFEST');
  raw.send([1, 3, { req: 2, folder: 'photos', files: true }]);
  await raw.waitFor(isFrameOfType(6));
  const answer = async (req: number, body: Record<string, unknown>) => {
    raw.send([1, 16, { req, hash, size: 6, offset: 0, folder: 'photos', ...body }]);
    const frame = (await raw.waitFor((f) => Array.isArray(f) && f[1] === 2 && (f[2] as { req?: number }).req === req)) as [
      number,
      number,
      { code: string; message: string; hint?: string },
    ];
    return frame[2];
  };
  assert.equal((await answer(3, { path: 'secret.txt' })).code, 'E_FILE_NOT_FOUND');
  assert.equal((await answer(4, { path: 'nope/none.txt' })).code, 'E_FILE_NOT_FOUND');
  assert.equal((await answer(5, { path: 'a.txt' })).code, 'E_FILE_CHANGED', "a hash other than the manifest's");
  const unshared = await answer(6, { folder: 'private', path: 'a.txt' });
  assert.equal(unshared.code, 'E_FOLDER_NOT_FOUND');
  assert.match(unshared.hint!, /run `synker folder share private [A-Z2-7]{7}` on /);
  assert.equal(
    (await answer(7, { folder: 'no-such-folder', path: 'a.txt' })).message,
    unshared.message.replace('"private"', '"no-such-folder"'),
    'unshared looks like absent',
  );
  assert.equal(raw.frames.filter(isFrameOfType(17)).length, 0, 'no byte of any file was sent');
  // A hostile path closes the session.
  raw.send([1, 16, { req: 8, folder: 'photos', path: '../../etc/passwd', hash, size: 6, offset: 0 }]);
  const bad = (await raw.waitFor((f) => isFrameOfType(2)(f) && (f as [number, number, { code: string }])[2].code === 'E_BAD_PATH')) as [
    number,
    number,
    { message: string },
  ];
  assert.match(bad[2].message, /"\.\." component/);
  await raw.closed;
  raw = await open();
  raw.send([1, 16, { req: 1, folder: 'photos', path: '/etc/passwd', hash, size: 6, offset: 0 }]);
  await raw.waitFor((f) => isFrameOfType(2)(f) && (f as [number, number, { code: string }])[2].code === 'E_BAD_PATH');
  // The agent still serves a good client.
  const dst = await tempDir(t);
  writeTree(dst, {});
  const result = await syncFrom(await connect(), dst);
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(dst, 'a.txt'), 'utf8'), 'listed');
  assert.equal(existsSync(path.join(dst, 'secret.txt')), false);
});

/** A hostile source: answers hello and the manifest with `entries`, and file requests with `onFile`. */
async function hostileSource(
  t: TestContext,
  entries: Array<Record<string, unknown>>,
  onFile: (send: (v: unknown) => void, req: number, body: Record<string, unknown>) => void,
) {
  const ids = await identities();
  const server = await startRawServer(ids.server, (peer) => {
    peer.ws.on('message', () => {
      for (const frame of peer.frames.splice(0)) {
        const [, type, body] = frame as [number, number, Record<string, unknown>];
        if (type === 1) peer.send(rawHello(ids.server, { features: ['file-data'] }));
        if (type === 3) {
          peer.send([1, 4, { req: body.req, folder: 'photos', role: 'source', ignore: [] }]);
          // Entries travel as positional arrays: [path, type, size, mtime, mode, hash, target].
          peer.send([1, 5, { req: body.req, entries: entries.map((e) => [e.p, e.k, e.s, e.m, e.o, e.h ?? null, e.l ?? null]) }]);
          const files = entries.filter((e) => e.k === 0);
          peer.send([
            1,
            6,
            {
              req: body.req,
              count: entries.length,
              files: files.length,
              dirs: entries.filter((e) => e.k === 1).length,
              symlinks: entries.filter((e) => e.k === 2).length,
              errors: 0,
              bytes: files.reduce((n, e) => n + (e.s as number), 0),
            },
          ]);
        }
        if (type === 16) onFile((v) => peer.send(v), body.req as number, body);
      }
    });
  });
  t.after(() => server.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: server.port, identity: ids.client, expectDeviceId: ids.server.deviceId });
  t.after(() => session.close());
  return session;
}

const fileEntry = (p: string, content: Buffer) => ({
  p,
  k: 0,
  s: content.length,
  m: 1_700_000_000_000,
  o: 0o644,
  h: Buffer.from(sha256(content), 'hex'),
});

test("file-end carries the source's own hash only for a client of an earlier version, which asks for it", async (t) => {
  const src = await tempDir(t);
  const content = randomBytes(300_000);
  writeTree(src, { 'a.bin': content });
  const { agent, ids } = await agentFor(t, src);
  const fetchFrom = async (features: string[], offset: number) => {
    const raw = await rawClient(agent.port, ids.client);
    t.after(() => raw.ws.terminate());
    raw.send(rawHello(ids.client, { features }));
    await raw.waitFor(isFrameOfType(1));
    raw.send([1, 3, { req: 1, folder: 'photos', files: true }]);
    await raw.waitFor(isFrameOfType(6));
    raw.send([1, 16, { req: 2, folder: 'photos', path: 'a.bin', hash: Buffer.from(sha256(content), 'hex'), size: content.length, offset }]);
    const end = (await raw.waitFor(isFrameOfType(18))) as [number, number, { size: number; hash?: Uint8Array }];
    const data = Buffer.concat(
      raw.frames.filter(isFrameOfType(17)).map((f) => Buffer.from((f as [number, number, { data: Uint8Array }])[2].data)),
    );
    return { end: end[2], data };
  };
  const earlier = await fetchFrom(['file-data'], 1000);
  assert.equal(Buffer.from(earlier.end.hash!).toString('hex'), sha256(content), "the whole file's hash, the skipped prefix included");
  assert.deepEqual(earlier.data, content.subarray(1000));
  const current = await fetchFrom(['file-data', 'file-end-unhashed'], 1000);
  assert.equal(current.end.hash, undefined);
  assert.deepEqual(current.data, content.subarray(1000));
});

test('a hostile source: data that does not match the hash never lands', async (t) => {
  const good = Buffer.from('the real content');
  let requests = 0;
  const session = await hostileSource(t, [fileEntry('f.txt', good)], (send, req) => {
    requests++;
    const bad = Buffer.from('the fake content');
    send([1, 17, { req, offset: 0, data: bad }]);
    send([1, 18, { req, size: bad.length, hash: Buffer.from(sha256(good), 'hex') }]);
  });
  const dst = await tempDir(t);
  writeTree(dst, {});
  const result = await syncFrom(session, dst);
  assert.deepEqual(
    result.failed.map((f) => [f.path, f.code]),
    [['f.txt', 'E_SYNC_INTEGRITY']],
  );
  assert.equal(requests, 3, 'tried, then retried twice');
  assert.equal(existsSync(path.join(dst, 'f.txt')), false);
  assert.equal(existsSync(path.join(dst, '.synker/partial')), false, 'no partial kept either (and its empty folder removed)');
});

test('a hostile source: more bytes than announced end the session, nothing lands', async (t) => {
  const good = Buffer.from('twelve bytes');
  const session = await hostileSource(t, [fileEntry('f.txt', good)], (send, req) => {
    send([1, 17, { req, offset: 0, data: good }]);
    send([1, 17, { req, offset: good.length, data: Buffer.from('and more') }]);
    send([1, 18, { req, size: good.length, hash: Buffer.from(sha256(good), 'hex') }]);
  });
  const dst = await tempDir(t);
  writeTree(dst, {});
  const result = await syncFrom(session, dst);
  assert.equal(result.aborted?.code, 'E_LIMIT');
  assert.match(result.aborted!.message, /more than the 12 bytes of f\.txt/);
  assert.equal(existsSync(path.join(dst, 'f.txt')), false);
});

test('a hostile source: ../ and absolute paths end the session before anything is written', async (t) => {
  for (const p of ['../evil.txt', '/tmp/evil.txt', 'a/../../evil.txt']) {
    const session = await hostileSource(t, [fileEntry(p, Buffer.from('x'))], () => assert.fail('no file request may be sent'));
    const dst = await tempDir(t);
    writeTree(dst, {});
    await assert.rejects(syncFrom(session, dst), (err: unknown) => (err as { code?: string }).code === 'E_BAD_PATH');
    assert.deepEqual(readdirSync(dst), ['.synker']);
    assert.equal(existsSync(path.join(path.dirname(dst), 'evil.txt')), false);
  }
});

test('a hostile source: a symlink leading outside the root is never written through', async (t) => {
  const outside = await tempDir(t);
  const content = Buffer.from('planted');
  const session = await hostileSource(
    t,
    [{ p: 'link', k: 2, s: 0, m: 1_700_000_000_000, o: 0o777, l: outside }, fileEntry('link/planted.txt', content)],
    (send, req) => {
      send([1, 17, { req, offset: 0, data: content }]);
      send([1, 18, { req, size: content.length, hash: Buffer.from(sha256(content), 'hex') }]);
    },
  );
  const dst = await tempDir(t);
  writeTree(dst, {});
  // A manifest with an entry inside a symlink is no tree a disk can hold: refused before anything is planned.
  await assert.rejects(syncFrom(session, dst), { code: 'E_DIFF_PARENT' });
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the root');
  assert.deepEqual(readdirSync(dst).sort(), ['.synker'], 'nothing was written inside it either');
});

const here = path.dirname(fileURLToPath(import.meta.url));

async function startChildAgent(t: TestContext, specFile: string): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(here, '../programs/file-agent.js'), specFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SYNKER_LOG: 'debug' },
  });
  t.after(() => {
    child.kill('SIGKILL');
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}): ${err}`)));
  });
  return { child, port, stderr: () => err };
}

test('a source killed in the middle of a large file: the next sync resumes, sending fewer bytes', async (t) => {
  const ids = await identities();
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const big = randomBytes(48 * 1024 * 1024);
  writeTree(src, { 'big.bin': big });
  writeTree(dst, {});
  const specFile = path.join(await tempDir(t), 'agent.json');
  writeFileSync(specFile, JSON.stringify({ ...ids.server, root: src, trust: [ids.client.deviceId] }));

  const first = await startChildAgent(t, specFile);
  const session1 = await connectToPeer({ host: '127.0.0.1', port: first.port, identity: ids.client, expectDeviceId: ids.server.deviceId });
  t.after(() => session1.close());
  let received = 0;
  const killAfter = 8 * 1024 * 1024;
  const result1 = await syncFrom(session1, dst, (s) => ({
    fetch: (req, onData) =>
      s.fetch(req, async (chunk) => {
        await onData(chunk);
        received += chunk.length;
        if (received >= killAfter && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      }),
  }));
  assert.notEqual(result1.aborted, undefined, 'the run stops when the source dies');
  assert.equal(existsSync(path.join(dst, 'big.bin')), false, 'nothing half-written lands');
  const kept = statSync(partialPathFor(dst, sha256(big))).size;
  assert.ok(kept >= killAfter && kept < big.length, `the verified prefix is kept (${kept} bytes)`);

  const second = await startChildAgent(t, specFile);
  const session2 = await connectToPeer({ host: '127.0.0.1', port: second.port, identity: ids.client, expectDeviceId: ids.server.deviceId });
  t.after(() => session2.close());
  const result2 = await syncFrom(session2, dst);
  assert.deepEqual(result2.failed, []);
  assert.equal(result2.aborted, undefined);
  assert.deepEqual(readFileSync(path.join(dst, 'big.bin')).equals(big), true);
  // Asserted from the source's side: its log says what it sent.
  const sent = /sent photos\/big\.bin .*: (\d+) bytes from offset (\d+)/.exec(second.stderr());
  assert.ok(sent, `the source logged the transfer: ${second.stderr()}`);
  assert.equal(Number(sent[2]), kept);
  assert.equal(Number(sent[1]), big.length - kept);
  assert.ok(Number(sent[1]) < big.length);
});

test('restore over a session: a file deleted on the source comes back from the backup agent', async (t) => {
  const { restoreFromSession } = await import('../../src/sync/restore.js');
  const backup = await tempDir(t);
  const source = await tempDir(t);
  writeTree(backup, { 'docs/report.pdf': 'the report', 'keep.txt': 'same' });
  writeTree(source, { 'keep.txt': 'same' });
  const { agent, connect } = await agentFor(t, backup);
  agent.directory.folderList[0]!.role = 'backup';
  const folder = { id: 'photos', path: source, role: 'source' as const, shareWith: [] };
  const dry = await restoreFromSession(folder, await connect(), { dryRun: true, cacheDir: await tempDir(t) });
  assert.deepEqual(
    dry.plan.actions.map((a) => ('at' in a ? `${a.op} ${a.at.path}` : a.op)),
    ['mkdir docs', 'pull docs/report.pdf'],
  );
  assert.equal(existsSync(path.join(source, 'docs')), false, 'a dry run changes nothing');
  const outcome = await restoreFromSession(folder, await connect(), { cacheDir: await tempDir(t) });
  assert.equal(outcome.exitCode, 0);
  assert.equal(readFileSync(path.join(source, 'docs/report.pdf'), 'utf8'), 'the report');
  const elsewhere = path.join(await tempDir(t), 'out');
  const into = await restoreFromSession(folder, await connect(), { toDir: elsewhere, paths: ['keep.txt'] });
  assert.equal(into.exitCode, 0);
  assert.deepEqual(
    readdirSync(elsewhere).filter((n) => n !== '.synker'),
    ['keep.txt'],
  );
});

test('restore refuses a peer that holds the folder as a source', async (t) => {
  const { restoreFromSession } = await import('../../src/sync/restore.js');
  const other = await tempDir(t);
  writeTree(other, {});
  const { connect } = await agentFor(t, other);
  const folder = { id: 'photos', path: await tempDir(t), role: 'source' as const, shareWith: [] };
  await assert.rejects(
    restoreFromSession(folder, await connect()),
    (e: unknown) => (e as { code?: string }).code === 'E_RESTORE_NOT_A_BACKUP',
  );
});

test("a file the source refuses fails with the source's reason, naming the file once", async (t) => {
  const src = await tempDir(t);
  writeTree(src, { 'a.txt': 'listed' });
  const { connect } = await agentFor(t, src);
  const session = await connect();
  for await (const _ of session.requestManifest('photos', { files: true })) void _;
  await assert.rejects(
    session.requestFile({ folder: 'photos', path: 'a.txt', hash: '0'.repeat(64), size: 6, offset: 0, onData: async () => undefined }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_SYNC_SOURCE_CHANGED');
      assert.match(err.message, /^a\.txt: .*changed on the source/);
      assert.equal(err.message.split('a.txt').length - 1, 1, err.message);
      return true;
    },
  );
});

test('restore from a backup that answers pings but never says which hashes it verified ends with E_PEER_STALLED, the source untouched', async (t) => {
  const { restoreFromSession } = await import('../../src/sync/restore.js');
  const source = await tempDir(t);
  writeTree(source, { 'a.txt': 'good' });
  const st = statSync(path.join(source, 'a.txt'));
  const ids = await identities();
  let asked = 0;
  const server = await startRawServer(ids.server, (peer) => {
    peer.ws.on('message', () => {
      for (const frame of peer.frames.splice(0)) {
        const [, type, body] = frame as [number, number, Record<string, unknown>];
        if (type === 1) peer.send(rawHello(ids.server, { features: ['file-data', 'verified-records'] }));
        if (type === 3) {
          // A backup whose copy of a.txt differs (same size and mtime) from the source's.
          const bad = Buffer.from('GOOD');
          peer.send([1, 4, { req: body.req, folder: 'photos', role: 'backup', ignore: [] }]);
          peer.send([
            1,
            5,
            { req: body.req, entries: [['a.txt', 0, 4, Math.trunc(st.mtimeMs), st.mode & 0o777, Buffer.from(sha256(bad), 'hex')]] },
          ]);
          peer.send([1, 6, { req: body.req, count: 1, files: 1, dirs: 0, symlinks: 0, errors: 0, bytes: 4 }]);
        }
        // type 8, verified-request: never answered (the ws library still answers pings).
        if (type === 8) asked++;
      }
    });
  });
  t.after(() => server.close());
  const session = await connectToPeer({
    host: '127.0.0.1',
    port: server.port,
    identity: ids.client,
    expectDeviceId: ids.server.deviceId,
    timeouts: { idleTimeout: 1500, keepaliveInterval: 300 },
  });
  t.after(() => session.close());
  const folder = { id: 'photos', path: source, role: 'source' as const, shareWith: [] };
  await assert.rejects(restoreFromSession(folder, session, { cacheDir: await tempDir(t) }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_PEER_STALLED');
    assert.match(err.message, /did not say which hashes it verified within 1\.5 s/);
    return true;
  });
  assert.equal(asked, 1);
  assert.equal(readFileSync(path.join(source, 'a.txt'), 'utf8'), 'good');
});
