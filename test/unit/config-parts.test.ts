import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigStore } from '../../src/config/config-store.js';
import { checkFolderRoot, FolderMarkerError, verifyFolderRoot, writeFolderMarker } from '../../src/config/folder-marker.js';
import { formatJsonPath, JsonSyntaxError, parseJsonWithLocations } from '../../src/config/json-source.js';
import { parsePeerAddress } from '../../src/config/peer-address.js';
import { formatPeerAddress } from '../harness/peer-address.js';
import type { AgentDirectory } from '../../src/peer/agent-directory.js';
import { tempDir } from '../harness/tmp.js';

test('the JSON parser agrees with JSON.parse and locates keys and values', () => {
  const text = '{\n  "a": [1, -2.5e3, true, null],\n  "b": {"c": "x\\u00e9\\n"},\n  "__proto__": {"polluted": 1}\n}';
  const parsed = parseJsonWithLocations(text);
  assert.deepEqual(JSON.parse(JSON.stringify(parsed.value)), JSON.parse(text));
  assert.equal(({} as Record<string, unknown>).polluted, undefined, '__proto__ is a plain key');
  assert.deepEqual(parsed.locate(['a']), { line: 2, column: 3 });
  assert.deepEqual(parsed.locate(['a', 1]), { line: 2, column: 12 });
  assert.deepEqual(parsed.locate(['b', 'c']), { line: 3, column: 9 });
  assert.deepEqual(parsed.locate(['b', 'missing']), { line: 3, column: 3 }, 'a missing key is located at its parent');
  assert.equal(formatJsonPath(['folders', 0, 'shareWith', 2]), 'folders[0].shareWith[2]');
  assert.equal(formatJsonPath(['odd key']), '["odd key"]');
  assert.equal(formatJsonPath([]), '(top level)');
  // A byte order mark some editors write is not an error.
  assert.deepEqual(parseJsonWithLocations('\ufeff{"a": 1}').value, Object.assign(Object.create(null) as object, { a: 1 }));
});

test('the JSON parser refuses what JSON.parse refuses, with a position', () => {
  const cases: Array<[string, RegExp, number, number]> = [
    ['{"a": 01}', /invalid number/, 1, 8],
    ['{"a": "x\ny"}', /not closed before the end of the line/, 1, 9],
    ['{"a": "\\q"}', /invalid escape/, 1, 8],
    ['{"a": 1} x', /after the end of the JSON document/, 1, 10],
    ['{"a" 1}', /expected ":" after key "a"/, 1, 6],
    ['[1 2]', /expected "," or "\]"/, 1, 4],
    ['{"a": tru}', /expected a value/, 1, 7],
    ['{a: 1}', /expected a key in double quotes/, 1, 2],
    ['{"a": 1,}', /trailing comma before }/, 1, 9],
  ];
  for (const [text, message, line, column] of cases) {
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse accepts ${text}`);
    assert.throws(
      () => parseJsonWithLocations(text),
      (err: unknown) =>
        err instanceof JsonSyntaxError && message.test(err.message) && err.position.line === line && err.position.column === column,
      `${text}: expected ${message} at ${line}:${column}`,
    );
  }
});

test("folder marker: ok, absent (no root, no marker), another folder's marker, damaged", async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, 'photos');
  assert.deepEqual(await checkFolderRoot(root, 'photos'), { state: 'absent', reason: 'no-root' });
  await assert.rejects(
    verifyFolderRoot(root, 'photos'),
    (err: unknown) =>
      err instanceof FolderMarkerError && err.code === 'E_FOLDER_ABSENT' && /does not exist \(an unmounted disk\?\)/.test(err.message),
  );
  await mkdir(root);
  assert.deepEqual(await checkFolderRoot(root, 'photos'), { state: 'absent', reason: 'no-marker' });
  await assert.rejects(verifyFolderRoot(root, 'photos'), /has no \.synker\/folder\.json marker \(an unmounted disk\?\)/);

  await writeFolderMarker(root, 'photos');
  const marker = await verifyFolderRoot(root, 'photos');
  assert.equal(marker.folderId, 'photos');
  await writeFolderMarker(root, 'photos'); // idempotent
  assert.deepEqual(await checkFolderRoot(root, 'docs'), { state: 'other-folder', foundId: 'photos' });
  await assert.rejects(
    verifyFolderRoot(root, 'docs'),
    (err: unknown) => err instanceof FolderMarkerError && err.code === 'E_FOLDER_MISMATCH',
  );
  await assert.rejects(writeFolderMarker(root, 'docs'), /already marked as folder "photos"/);

  await writeFile(path.join(root, '.synker', 'folder.json'), '{"folder');
  await assert.rejects(
    checkFolderRoot(root, 'photos'),
    (err: unknown) => err instanceof FolderMarkerError && err.code === 'E_MARKER_CORRUPT',
  );
  const file = path.join(dir, 'file');
  await writeFile(file, '');
  assert.deepEqual(await checkFolderRoot(file, 'x'), { state: 'absent', reason: 'not-a-directory' });
});

test('static peer addresses', () => {
  assert.deepEqual(parsePeerAddress('nas.local'), { host: 'nas.local', port: 7780 });
  assert.deepEqual(parsePeerAddress('192.168.1.5:7781'), { host: '192.168.1.5', port: 7781 });
  assert.deepEqual(parsePeerAddress('[fd00::5]:7790'), { host: 'fd00::5', port: 7790 });
  assert.equal(formatPeerAddress({ host: 'fd00::5', port: 7790 }), '[fd00::5]:7790');
  assert.match(parsePeerAddress('nas:0') as string, /not a port number/);
  assert.match(parsePeerAddress('na s:1') as string, /not a host name/);
  assert.match(parsePeerAddress('[nas]:1') as string, /not an IPv6 address/);
});

test('ConfigStore is what the peer server asks for (AgentDirectory)', async (t) => {
  const dir = await tempDir(t);
  const store = await ConfigStore.open(path.join(dir, 'config.json'));
  t.after(() => store.close());
  const directory: AgentDirectory = store;
  assert.equal(directory.agentName(), store.current().name);
  assert.deepEqual(directory.folders(), []);
});
