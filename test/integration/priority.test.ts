import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { lowPriorityCommand } from '../../src/schedule/priority.js';

test('a scheduled check process runs at the lowest CPU priority and idle I/O class', {
  skip: process.platform !== 'linux' && 'ionice exists on Linux only',
}, () => {
  const probe = `const os = require('node:os'); const { execFileSync } = require('node:child_process');
    const io = (() => { try { return execFileSync('ionice', ['-p', String(process.pid)], { encoding: 'utf8' }).trim(); } catch { return 'no ionice'; } })();
    console.log(JSON.stringify({ nice: os.getPriority(), io }));`;
  const { command, args, wrapped } = lowPriorityCommand(process.execPath, ['-e', probe]);
  assert.ok(wrapped, 'nice is on PATH');
  const out = JSON.parse(execFileSync(command, args, { encoding: 'utf8' })) as { nice: number; io: string };
  assert.equal(out.nice, 19);
  assert.equal(out.io, 'idle');
});
