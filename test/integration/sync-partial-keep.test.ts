/**
 * What a partial file (a transfer cut short) keeps, in processes of their
 * own: stopped by a real signal, or limited by a real resource limit.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { partialPathFor } from '../../src/sync/partial-files.js';
import { sha256, T0, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

const moduleUrl = (rel: string) => new URL(rel, import.meta.url).href;
const INCOMING = moduleUrl('../../src/sync/incoming-file.js');
const ON_SIGNAL = moduleUrl('../../src/cli/keep-partials-on-signal.js');

/** Runs `body` in a node process of its own with `data.bin` under `dir` as the file being received. */
function childScript(body: string): string {
  return `
    import { readFileSync } from 'node:fs';
    import { IncomingFile } from ${JSON.stringify(INCOMING)};
    import { keepPartialsOnSignal } from ${JSON.stringify(ON_SIGNAL)};
    const [root, dataFile, hash] = process.argv.slice(1); // with -e there is no script path
    const data = readFileSync(dataFile);
    const expected = { hash, size: data.length, mtime: ${T0}, mode: 0o644 };
    ${body}
  `;
}

test('Ctrl-C during a transfer keeps every byte received, staged ones included, and exits 130', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(3 * 1024 * 1024 + 11);
  const dataFile = path.join(root, '..', `${path.basename(root)}-data.bin`);
  writeFileSync(dataFile, data);
  t.after(() => spawnSync('rm', ['-f', dataFile]));
  // 1.5 MiB + 1000 bytes: one whole staged MiB written, the rest only staged when the signal comes.
  const received = 1024 * 1024 + 512 * 1024 + 1000;
  const script = childScript(`
    keepPartialsOnSignal('sync');
    const file = await IncomingFile.open(root, 'big.bin', expected);
    for (let i = 0; i < ${received}; i += 100000) await file.write(data.subarray(i, Math.min(i + 100000, ${received})));
    process.stdout.write('received\\n');
    setInterval(() => {}, 1000);
  `);
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, dataFile, sha256(data)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('received') && resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code} before receiving: ${stderr}`)));
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 130, stderr);
  assert.match(
    stderr,
    /SIGINT: stopped\. The file partly received is kept for the resume: the next synker sync continues where it stopped\.\n$/,
  );
  assert.doesNotMatch(stderr, /in part\b/);
  const partial = partialPathFor(root, sha256(data));
  assert.equal(statSync(partial).size, received, 'the staged bytes were written before the exit');
  assert.deepEqual(readFileSync(partial), data.subarray(0, received));
});

test('a kept part that cannot grow is deleted, so the next attempt starts from the first byte', {
  skip:
    process.platform === 'linux' && spawnSync('sh', ['-c', 'command -v prlimit']).status === 0 ? undefined : 'needs prlimit (util-linux)',
}, async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(2 * 1024 * 1024);
  const dataFile = path.join(root, '..', `${path.basename(root)}-data.bin`);
  writeFileSync(dataFile, data);
  t.after(() => spawnSync('rm', ['-f', dataFile]));
  const partial = partialPathFor(root, sha256(data));
  mkdirSync(path.dirname(partial), { recursive: true });
  writeFileSync(partial, data.subarray(0, 500_000));
  // A file-size limit makes the kernel refuse to grow the file (EFBIG), as a faulty driver may (EPERM).
  const script = childScript(`
    const file = await IncomingFile.open(root, 'big.bin', expected);
    if (file.resumeOffset !== 500000) throw new Error('not resumed: ' + file.resumeOffset);
    try {
      for (let i = file.resumeOffset; i < data.length; i += 100000) await file.write(data.subarray(i, i + 100000));
      console.log('no error');
    } catch (err) {
      console.log(err.code + ' ' + err.message);
    }
  `);
  const r = spawnSync('prlimit', ['--fsize=1000000', process.execPath, '--input-type=module', '-e', script, root, dataFile, sha256(data)], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^E_SYNC_PARTIAL big\.bin: the part kept from an interrupted transfer could not be extended \(EFBIG\); it was deleted/,
  );
  assert.equal(existsSync(partial), false, 'the part is gone: the retry fetches from byte 0');
});

// The module under test must be the built one the child imports.
assert.ok(existsSync(fileURLToPath(INCOMING)));
