/**
 * Test helper process: `rewrite-config-forever.js FILE A.json B.json`
 * saves config A, then B, then A... with the real atomic writer, printing
 * `writing` once started, until it is killed (the crash being tested).
 */
import { readFile } from 'node:fs/promises';
import { saveConfigFile } from '../../src/config/config-file.js';
import type { SynkerConfig } from '../../src/config/types.js';

const [file, a, b] = process.argv.slice(2) as [string, string, string];
const configs = [JSON.parse(await readFile(a, 'utf8')) as SynkerConfig, JSON.parse(await readFile(b, 'utf8')) as SynkerConfig];
process.stdout.write('writing\n');
// Bounded: the test kills it within a second; stop by itself after 30 s regardless.
const deadline = Date.now() + 30_000;
for (let i = 0; Date.now() < deadline; i++) await saveConfigFile(file, configs[i % 2]!);
