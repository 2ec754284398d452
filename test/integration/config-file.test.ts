import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readdir, readFile, stat, watch, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile, parseConfigText, saveConfigFile, serializeConfig } from '../../src/config/config-file.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { CONFIG_VERSION, DEFAULT_PORT, defaultConfig } from '../../src/config/defaults.js';
import { deviceIdFromCertificate, formatDeviceId } from '../../src/identity/device-id.js';
import { migrateConfig } from '../../src/config/migrate.js';
import type { SynkerConfig } from '../../src/config/types.js';
import { killAndWait, spawnHelper, waitForLine } from '../harness/child-script.js';
import { tempDir } from '../harness/tmp.js';

const idA = deviceIdFromCertificate(Buffer.from('device a'));
const idB = deviceIdFromCertificate(Buffer.from('device b'));

function configError(code: string, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

test('a missing config file means all defaults', async (t) => {
  const dir = await tempDir(t);
  const loaded = await loadConfigFile(path.join(dir, 'config.json'));
  assert.equal(loaded.exists, false);
  assert.deepEqual(loaded.config, defaultConfig());
  assert.equal(loaded.config.port, DEFAULT_PORT);
  assert.deepEqual([loaded.config.folders, loaded.config.trusted, loaded.config.peers], [[], [], []]);
});

test('malformed JSON is refused naming the file, line and column', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, '{\n  "version": 1,\n  "name": "laptop",\n  "port": ,\n  "peers": []\n}\n');
  await assert.rejects(
    loadConfigFile(file),
    configError('E_CONFIG_SYNTAX', new RegExp(`^${escapeRegExp(file)}:4:11: invalid JSON: expected a value, found ","`)),
  );

  await writeFile(file, '{\n  "version": 1,\n  "peers": [\n    "nas:7780",\n  ]\n}\n');
  await assert.rejects(loadConfigFile(file), configError('E_CONFIG_SYNTAX', /config\.json:5:3: invalid JSON: trailing comma before \]/));

  await writeFile(file, '{\n  "version": 1\n');
  await assert.rejects(loadConfigFile(file), configError('E_CONFIG_SYNTAX', /config\.json:3:1: .*end of file/));

  await writeFile(file, "{\n  'version': 1\n}");
  await assert.rejects(loadConfigFile(file), configError('E_CONFIG_SYNTAX', /config\.json:2:3: .*double quotes/));

  await writeFile(file, '');
  await assert.rejects(loadConfigFile(file), configError('E_CONFIG_SYNTAX', /config\.json:1:1: .*empty/));

  await writeFile(file, '{\n  "version": 1,\n  "port": 1,\n  "port": 2\n}');
  await assert.rejects(loadConfigFile(file), configError('E_CONFIG_SYNTAX', /config\.json:4:3: .*"port" appears twice/));
});

test('a bad key is refused naming the key path and its line', () => {
  const file = '/etc/synker/config.json';
  const text = (body: string): string => `{\n  "version": 1,\n${body}\n}\n`;
  assert.throws(
    () => parseConfigText(text('  "prot": 7780'), file),
    configError('E_CONFIG_INVALID', /^\/etc\/synker\/config\.json:3:3: prot: unknown key \(did you mean "port"\?\)/),
  );
  assert.throws(
    () => parseConfigText(text('  "port": "7780"'), file),
    configError('E_CONFIG_INVALID', /config\.json:3:3: port: must be a port number/),
  );
  assert.throws(() => parseConfigText(text('  "port": 70000'), file), /port: must be a port number from 0 to 65535/);
  const folders = text(
    `  "trusted": [{"deviceId": "${idA}"}],\n  "folders": [\n    {"id": "photos", "path": "/data/photos", "role": "source"},\n    {"id": "docs", "path": "/data/docs", "role": "mirror", "shareWith": ["${idA}"]}\n  ]`,
  );
  assert.throws(
    () => parseConfigText(folders, file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'folders[1].role');
      assert.equal(err.position?.line, 6);
      assert.match(err.message, /folders\[1\]\.role: must be "source" \(or "master"\) or "backup" \(or "slave"\), found "mirror"/);
      return true;
    },
  );
  // Every problem is listed, each with its own line.
  const several = text(`  "name": "",\n  "peers": ["nas:99999", "[fd00::5]:7780", "fd00::5"]`);
  assert.throws(
    () => parseConfigText(several, file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.message.split('\n');
      assert.equal(lines.length, 3, err.message);
      assert.match(lines[0]!, /:3:3: name: must be a non-empty string/);
      assert.match(lines[1]!, /:4:13: peers\[0\]: "99999" is not a port number/);
      assert.match(lines[2]!, /:4:44: peers\[2\]: an IPv6 address must be written in brackets/);
      return true;
    },
  );
  // Sharing with an untrusted device, a mistyped device ID, a relative path.
  assert.throws(
    () => parseConfigText(text(`  "folders": [{"id": "p", "path": "/p", "role": "backup", "shareWith": ["${idB}"]}]`), file),
    /folders\[0\]\.shareWith\[0\]: this device is not in "trusted"/,
  );
  assert.throws(
    () => parseConfigText(text(`  "trusted": [{"deviceId": "${idA.slice(0, 55)}A"}]`), file),
    /trusted\[0\]\.deviceId: .*(check character|not a valid)/,
  );
  assert.throws(
    () => parseConfigText(text('  "folders": [{"id": "p", "path": "photos", "role": "source"}]'), file),
    /folders\[0\]\.path: must be an absolute path/,
  );
  assert.throws(() => parseConfigText('[1, 2]', file), configError('E_CONFIG_INVALID', /must hold a JSON object/));
});

test("a device name that is another trusted device's first ID group is refused: it would hijack that reference", () => {
  const file = '/etc/synker/config.json';
  const text = `{\n  "version": 1,\n  "trusted": [\n    {"deviceId": "${idA}", "name": "nas"},\n    {"deviceId": "${idB}", "name": "${idA.slice(0, 7).toLowerCase()}"}\n  ]\n}\n`;
  assert.throws(
    () => parseConfigText(text, file),
    configError('E_CONFIG_INVALID', /config\.json:5:\d+: trusted\[1\]\.name: ".*" is the first group of the ID of another trusted device/),
  );
  // Its own first group names no other device: allowed.
  const own = `{"version": 1, "trusted": [{"deviceId": "${idA}", "name": "${idA.slice(0, 7)}"}, {"deviceId": "${idB}"}]}`;
  assert.equal(parseConfigText(own, file).config.trusted[0]!.name, idA.slice(0, 7));
});

test('folders inside one another are refused in a hand-edited file', () => {
  const file = '/etc/synker/config.json';
  const text = (paths: string[]): string =>
    JSON.stringify({ version: 1, folders: paths.map((p, i) => ({ id: `f${i}`, path: p, role: i === 0 ? 'source' : 'backup' })) }, null, 2);
  assert.throws(
    () => parseConfigText(text(['/data/f1', '/data/f1/inner']), file),
    configError(
      'E_CONFIG_INVALID',
      /folders\[1\]\.path: \/data\/f1\/inner is inside folders\[0\] \(\/data\/f1\): folders must not be inside one another/,
    ),
  );
  assert.throws(
    () => parseConfigText(text(['/data/f1/inner/', '/data']), file),
    /folders\[1\]\.path: \/data is the parent of folders\[0\] \(\/data\/f1\/inner\)/,
  );
  assert.equal(parseConfigText(text(['/data/f1', '/data/f10', '/data2']), file).config.folders.length, 3);
});

test('values are normalised: role aliases, dashed device IDs, ~ paths', () => {
  const { config } = parseConfigText(
    JSON.stringify({
      version: 1,
      trusted: [{ deviceId: formatDeviceId(idA).toLowerCase(), name: 'nas' }],
      folders: [
        { id: 'photos', path: '~/Photos/', role: 'Master', shareWith: [formatDeviceId(idA)] },
        { id: 'copy', path: '/backup/photos', role: 'slave' },
      ],
      peers: ['nas.local', '192.168.1.5:7781'],
    }),
    'config.json',
  );
  assert.equal(config.trusted[0]!.deviceId, idA);
  assert.equal(config.folders[0]!.role, 'source');
  assert.equal(config.folders[1]!.role, 'backup');
  assert.deepEqual(config.folders[0]!.shareWith, [idA]);
  assert.ok(path.isAbsolute(config.folders[0]!.path) && config.folders[0]!.path.endsWith(`${path.sep}Photos`));
  assert.deepEqual(config.folders[1]!.shareWith, []);
  // What is written back parses to the same config.
  assert.deepEqual(parseConfigText(serializeConfig(config), 'x').config, config);
});

test('a legacy file without `version` is migrated, and the old file kept on the first save', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  const legacy = {
    name: 'old-nas',
    trusted: [idA, { deviceId: idB, name: 'laptop' }],
    folders: [{ id: 'photos', path: '/srv/photos', role: 'slave', shareWith: [idA] }],
  };
  await writeFile(file, JSON.stringify(legacy, null, 2));
  const loaded = await loadConfigFile(file);
  assert.equal(loaded.fromVersion, 0);
  assert.equal(loaded.config.version, CONFIG_VERSION);
  assert.deepEqual(loaded.config.trusted, [{ deviceId: idA }, { deviceId: idB, name: 'laptop' }]);
  assert.equal(loaded.config.folders[0]!.role, 'backup');

  const store = await ConfigStore.open(file);
  await store.update((c) => {
    c.port = 7781;
  });
  await store.close();
  const saved = JSON.parse(await readFile(file, 'utf8')) as SynkerConfig;
  assert.equal(saved.version, 1);
  assert.deepEqual(saved.trusted[0], { deviceId: idA });
  assert.equal(saved.port, 7781);
  assert.deepEqual(JSON.parse(await readFile(`${file}.v0`, 'utf8')), legacy);

  // The migration table runs step by step from the declared version.
  assert.deepEqual(migrateConfig({ version: 1, port: 1 }), { raw: { version: 1, port: 1 }, from: 1 });
});

test('a file from a newer synker is refused, naming both versions', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, '{\n  "version": 7\n}');
  await assert.rejects(
    loadConfigFile(file),
    configError(
      'E_CONFIG_VERSION',
      /config\.json:2:3: version: version 7 was written by a newer synker; this one understands versions up to 1/,
    ),
  );
});

test('writes are atomic and private; a stray temp file from a crash is ignored', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'sub', 'config.json');
  const config = { ...defaultConfig(), trusted: [{ deviceId: idA, name: 'nas' }] };
  await saveConfigFile(file, config);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  // What a crash mid-write leaves: a half-written temp file next to the config.
  await writeFile(`${file}.tmp-99999-deadbeef`, serializeConfig(config).slice(0, 20));
  assert.deepEqual((await loadConfigFile(file)).config, config);
  await saveConfigFile(file, { ...config, port: 9000 });
  assert.equal((await loadConfigFile(file)).config.port, 9000);
  assert.deepEqual((await readdir(path.dirname(file))).sort(), ['config.json', 'config.json.tmp-99999-deadbeef']);
});

test('a writer killed mid-write never leaves a torn config', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  // Two big configs (~60 KB each) so a kill lands inside a write often.
  const big = (port: number): SynkerConfig => ({
    ...defaultConfig(),
    port,
    trusted: Array.from({ length: 600 }, (_, i) => ({ deviceId: deviceIdFromCertificate(randomBytes(32)), name: `device-${port}-${i}` })),
  });
  const a = big(8001);
  const b = big(8002);
  await writeFile(path.join(dir, 'a.json'), JSON.stringify(a));
  await writeFile(path.join(dir, 'b.json'), JSON.stringify(b));
  let caught = 0;
  for (let round = 0; round < 5; round++) {
    const child = spawnHelper('rewrite-config-forever', [file, path.join(dir, 'a.json'), path.join(dir, 'b.json')]);
    t.after(() => killAndWait(child));
    await waitForLine(child, /^writing$/);
    // Kill while a write over an existing config is under way: as soon as writeFileAtomic's temporary file is seen.
    await until(dir, (names) => names.includes('config.json') && names.some((n) => n.endsWith('.tmp')));
    await killAndWait(child);
    if (readdirSync(dir).some((n) => n.endsWith('.tmp'))) caught++;
    const loaded = await loadConfigFile(file);
    assert.ok(loaded.exists);
    assert.ok([8001, 8002].includes(loaded.config.port), `round ${round}: port ${loaded.config.port}`);
    assert.deepEqual(loaded.config, loaded.config.port === 8001 ? a : b);
  }
  // The kill follows the temporary file's appearance within a write's fsync: most rounds leave it behind.
  assert.ok(caught >= 1, 'at least one kill landed inside a write (its temporary file left behind)');
});

/** Resolves when the names in `dir` satisfy `done` (watched, not polled on a timer). */
async function until(dir: string, done: (names: string[]) => boolean): Promise<void> {
  const seen = (): boolean => done(readdirSync(dir));
  if (seen()) return;
  const stop = new AbortController();
  try {
    for await (const _ of watch(dir, { signal: stop.signal })) if (seen()) return;
  } finally {
    stop.abort();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('the smtp and schedule sections are checked by their own parsers, located, and written back as written', () => {
  const file = 'config.json';
  const good = {
    version: 1,
    smtp: { host: '127.0.0.1', port: 2525, from: 'synker@example.org', to: ['me@example.org'], timeout: '30s' },
    schedule: { check: '0 */6 * * *', staleAfter: '3d' },
  };
  const { config } = parseConfigText(JSON.stringify(good), file);
  assert.deepEqual(config.smtp, good.smtp);
  assert.deepEqual(config.schedule, good.schedule);
  assert.deepEqual(JSON.parse(serializeConfig(config)).smtp, good.smtp, 'durations stay as the user wrote them');
  assert.equal(parseConfigText('{"version": 1}', file).config.smtp, undefined);

  const badPort = '{\n  "version": 1,\n  "smtp": {\n    "host": "mail", "from": "a@b.c", "to": ["d@e.f"],\n    "port": 70000\n  }\n}';
  assert.throws(
    () => parseConfigText(badPort, file),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^config\.json:5:5: smtp\.port: must be a number from 1 to 65535, not 70000/);
      assert.match(err.hint ?? '', /587/);
      return true;
    },
  );
  assert.throws(
    () => parseConfigText('{"version": 1, "schedule": {"check": "not cron"}}', file),
    /config\.json:1:29: schedule\.check: .*not a usable schedule/,
  );
  assert.throws(
    () => parseConfigText('{"version": 1, "smtp": {"host": "x", "passwrod": "y"}}', file),
    /config\.json:1:38: smtp\.passwrod: unknown setting smtp\.passwrod/,
  );
});

test('every problem of the smtp and schedule sections is listed at once, each at its key', () => {
  const text = JSON.stringify({
    version: 1,
    smtp: { host: 'mail', from: 'a@b.c', to: [], starttls: 'maybe', port: 0 },
    schedule: { check: '17 3 * * *', timezone: 'Mars/Olympus', email: 'sometimes', staleAfter: 'never', retryAfter: '0' },
  });
  assert.throws(
    () => parseConfigText(text, 'config.json'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const keys = [...err.message.matchAll(/(smtp|schedule)\.(\w+): /g)].map((m) => `${m[1]}.${m[2]}`);
      assert.deepEqual(
        keys.sort(),
        ['schedule.email', 'schedule.retryAfter', 'schedule.staleAfter', 'schedule.timezone', 'smtp.port', 'smtp.starttls', 'smtp.to'],
        err.message,
      );
      return true;
    },
  );
  // A required key that is wrong does not hide what follows it.
  assert.throws(
    () => parseConfigText(JSON.stringify({ version: 1, smtp: { host: 3, from: 'a@b.c', to: ['d@e.f'], secure: 'yes' } }), 'config.json'),
    /smtp\.host: [\s\S]*smtp\.secure: /,
  );
});
