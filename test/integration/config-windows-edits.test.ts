/**
 * config.json as a Windows user edits it: a path with single backslashes
 * (JSON escapes), a file saved as UTF-16 (PowerShell 5's `>`, Notepad's
 * "Unicode"); a UTF-8 byte order mark and CRLF line ends are fine. Real files,
 * loadConfigFile, and the real CLI for what the user reads.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile, wideEncoding } from '../../src/config/config-file.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const GOOD = (folder: string) =>
  `{\n  "version": 1,\n  "name": "winpc",\n  "folders": [{"id": "f", "path": ${JSON.stringify(folder)}, "role": "backup"}]\n}\n`;

async function refusal(file: string): Promise<ConfigError> {
  try {
    await loadConfigFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('the config was accepted');
}

test('a folder path with single backslashes names the tab and newline they became, and how to write it', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, GOOD('X').replace('"X"', '"C:\\temp\\new"'));
  const err = await refusal(file);
  assert.equal(err.code, 'E_CONFIG_INVALID');
  assert.equal(err.key, 'folders[0].path');
  assert.match(err.message, /config\.json:4:\d+: folders\[0\]\.path: holds a tab and a newline \(found "C:\\temp\\new"\)/);
  assert.equal(err.hint, 'Double each backslash in the config file ("C:\\\\temp\\\\new") or write / instead ("C:/temp/new").');
  // A backslash before a letter JSON has no escape for (\U, \P) is a syntax error: the same advice.
  await writeFile(file, GOOD('X').replace('"X"', '"C:\\Users\\ann"'));
  const badEscape = await refusal(file);
  assert.equal(badEscape.code, 'E_CONFIG_SYNTAX');
  assert.match(badEscape.message, /invalid escape \\U in a string/);
  assert.match(badEscape.hint ?? '', /double each backslash of a Windows path \("C:\\\\Users\\\\ann/);

  // What the user reads from the CLI.
  const home = await tempDir(t);
  await mkdir(path.join(home, 'synker', 'config'), { recursive: true });
  await writeFile(path.join(home, 'synker', 'config', 'config.json'), GOOD('X').replace('"X"', '"C:\\temp\\new"'));
  const run = await runSynker(['status'], { env: isolatedEnv(home) });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /folders\[0\]\.path: holds a tab and a newline/);
  assert.match(
    run.stderr,
    /\nhint: Double each backslash in the config file \("C:\\\\temp\\\\new"\) or write \/ instead \("C:\/temp\/new"\)\./,
  );
});

/** UTF-32 of ASCII text, as iconv writes it (without its mark). */
function utf32(text: string, order: 'le' | 'be'): Buffer {
  const out = Buffer.alloc(text.length * 4);
  for (let k = 0; k < text.length; k++) {
    if (order === 'le') out.writeUInt32LE(text.charCodeAt(k), 4 * k);
    else out.writeUInt32BE(text.charCodeAt(k), 4 * k);
  }
  return out;
}

test('a config saved as UTF-16 says so and asks for UTF-8; a UTF-8 BOM and CRLF are accepted', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  const good = GOOD(path.join(dir, 'copy'));
  const le = Buffer.from(good, 'utf16le');
  const be = Buffer.from(le).swap16();
  for (const [bytes, name] of [
    [Buffer.concat([Buffer.from([0xff, 0xfe]), le]), 'UTF-16LE'],
    [Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'UTF-16BE'],
    [le, 'UTF-16LE'],
    [be, 'UTF-16BE'],
    // UTF-32's little-endian mark begins with UTF-16LE's: named for what it is (iconv -t UTF-32 writes it).
    [Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), utf32(good, 'le')]), 'UTF-32LE'],
    [Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), utf32(good, 'be')]), 'UTF-32BE'],
    [utf32(good, 'le'), 'UTF-32LE'],
    [utf32(good, 'be'), 'UTF-32BE'],
  ] as const) {
    await writeFile(file, bytes);
    const err = await refusal(file);
    assert.equal(err.code, 'E_CONFIG_SYNTAX');
    assert.equal(err.message, `${file}: the file is saved as ${name} text; synker reads UTF-8`);
    assert.match(err.hint ?? '', /^Save it as UTF-8/);
  }
  // A UTF-8 byte order mark (Notepad's "UTF-8 with BOM", PowerShell 5's -Encoding utf8) and CRLF line ends.
  await writeFile(file, `\ufeff${good.replaceAll('\n', '\r\n')}`);
  const loaded = await loadConfigFile(file);
  assert.equal(loaded.config.folders[0]!.path, path.join(dir, 'copy'));
  // A file of zero bytes (a crash mid-write) is damaged, not UTF-16.
  await writeFile(file, Buffer.alloc(64));
  const zeros = await refusal(file);
  assert.equal(zeros.code, 'E_CONFIG_SYNTAX');
  assert.doesNotMatch(zeros.message, /UTF-16/);
  assert.equal(wideEncoding(Buffer.from('{"a":1}')), undefined);
});
