/**
 * The node arguments that give a benchmark's own child processes what
 * bin/synker.js gives every synker process (libuv pool size, GC tuning),
 * so that a process started from dist/ is measured as users run it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin');

export const LAUNCHER_NODE_ARGS: readonly string[] = [
  '--require',
  path.join(bin, 'io-threads.js'),
  '--require',
  path.join(bin, 'gc-tuning.js'),
];
