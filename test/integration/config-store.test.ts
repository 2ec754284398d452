import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { deviceIdFromCertificate, formatDeviceId } from '../../src/identity/device-id.js';
import type { SynkerConfig } from '../../src/config/types.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';

/** The real CLI with HOME=home and SYNKER_HOME=home/synker. */
function runCli(args: string[], options: { home: string; cwd?: string }) {
  return runSynker(args, { env: isolatedEnv(options.home), ...(options.cwd ? { cwd: options.cwd } : {}) });
}
import { tempDir } from '../harness/tmp.js';

const idA = deviceIdFromCertificate(Buffer.from('store device a'));

/**
 * The next `event` of the store. The store's watcher does not keep a process
 * alive (the agent's server does); the timer here does. The promise never
 * rejects unobserved: callers await it after doing the change.
 */
function nextEvent<T extends unknown[]>(store: ConfigStore, event: 'change' | 'invalid', timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const result = Promise.race([
    once(store, event) as Promise<T>,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  result.catch(() => undefined);
  return result;
}

test('a running store picks up `synker trust` and `folder add` run by another process', async (t) => {
  const home = await tempDir(t);
  const file = path.join(home, 'custom', 'synker.json');
  const store = await ConfigStore.open(file, { watch: true, pollMs: 5000 });
  t.after(() => store.close());
  assert.equal(store.trusted(idA), undefined);

  const changed = nextEvent<[SynkerConfig]>(store, 'change');
  const trust = await runCli(['--config', file, 'trust', formatDeviceId(idA), '--name', 'nas'], { home });
  assert.equal(trust.code, 0, trust.stderr);
  const [config] = await changed;
  assert.deepEqual(config.trusted, [{ deviceId: idA, name: 'nas' }]);
  assert.deepEqual(store.trusted(idA), { deviceId: idA, name: 'nas' });

  const folderRoot = await tempDir(t);
  const added = nextEvent(store, 'change');
  const add = await runCli(['--config', file, 'folder', 'add', 'photos', folderRoot, '--role', 'source', '--share', 'nas'], { home });
  assert.equal(add.code, 0, add.stderr);
  await added;
  assert.equal(store.folders().length, 1);
  assert.equal(store.folderForPeer('photos', idA)?.path, folderRoot);
  // Visibility: a folder not shared with a device looks exactly like one that does not exist.
  const other = deviceIdFromCertificate(Buffer.from('someone else'));
  assert.equal(store.folderForPeer('photos', other), undefined);
  assert.equal(store.folderForPeer('nope', idA), undefined);
  assert.deepEqual(store.foldersSharedWith(other), []);
});

test('a broken edit keeps the last good config and says why; fixing it applies it', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ version: 1, port: 7001 }));
  const store = await ConfigStore.open(file, { watch: true, pollMs: 100 });
  t.after(() => store.close());
  assert.equal(store.current().port, 7001);

  const invalid = nextEvent<[ConfigError]>(store, 'invalid');
  await writeFile(file, '{\n  "version": 1,\n  "port": 7002,\n  "nmae": "x"\n}\n');
  const [err] = await invalid;
  assert.match(err.message, /config\.json:4:3: nmae: unknown key \(did you mean "name"\?\)/);
  assert.equal(store.current().port, 7001);
  assert.equal(store.lastError(), err);

  const changed = nextEvent<[SynkerConfig, SynkerConfig]>(store, 'change');
  await writeFile(file, '{\n  "version": 1,\n  "port": 7003\n}\n');
  const [next, previous] = await changed;
  assert.equal(next.port, 7003);
  assert.equal(previous.port, 7001);
  assert.equal(store.current().port, 7003);
  assert.equal(store.lastError(), undefined);
  assert.throws(
    () => {
      (store.current() as { port: number }).port = 1;
    },
    TypeError,
    'the config handed out is read-only',
  );
});

test('update() refuses to overwrite a file that is broken right now', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  const store = await ConfigStore.open(file);
  t.after(() => store.close());
  await writeFile(file, '{"version": 1, "port": }');
  await assert.rejects(
    store.update((c) => {
      c.port = 1234;
    }),
    (e: unknown) => e instanceof ConfigError && e.code === 'E_CONFIG_SYNTAX',
  );
  assert.equal(await readFile(file, 'utf8'), '{"version": 1, "port": }');
});

test('concurrent `synker trust` runs from several processes lose no edit', async (t) => {
  const home = await tempDir(t);
  const ids = Array.from({ length: 6 }, (_, i) => deviceIdFromCertificate(Buffer.from(`concurrent ${i}`)));
  const results = await Promise.all(ids.map((id, i) => runCli(['trust', id, '--name', `dev${i}`], { home })));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const store = await ConfigStore.open(path.join(home, 'synker', 'config', 'config.json'));
  t.after(() => store.close());
  assert.deepEqual(
    store
      .current()
      .trusted.map((d) => d.deviceId)
      .sort(),
    [...ids].sort(),
  );
});
