/** Helpers for scanner tests: collect a scan, run the CLI (optionally without root's read override), hash with sha256sum. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { scanFolder, type ScanOptions, type ScanStats } from '../../src/scan/index.js';

const execFileP = promisify(execFile);

/** bin/synker.js of this checkout (tests run from dist/test/). */
export const SYNKER_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/synker.js');

export async function collect(root: string, options?: ScanOptions): Promise<{ entries: ManifestEntry[]; stats: ScanStats }> {
  const scan = scanFolder(root, options);
  const entries: ManifestEntry[] = [];
  for await (const entry of scan) entries.push(entry);
  return { entries, stats: scan.stats };
}

/** `sha256sum FILE`'s digest. */
export async function sha256sum(file: string): Promise<string> {
  const { stdout } = await execFileP('sha256sum', ['-b', '--', file], { maxBuffer: 1 << 20 });
  const digest = stdout.split(' ')[0]!;
  return digest.replace(/^\\/, '');
}

/** sha256sum's digests of many files, in one run per 500 files. */
export async function sha256sumAll(files: string[]): Promise<string[]> {
  const digests: string[] = [];
  for (let i = 0; i < files.length; i += 500) {
    const batch = files.slice(i, i + 500);
    const { stdout } = await execFileP('sha256sum', ['-b', '-z', '--', ...batch], { maxBuffer: 64 << 20 });
    const lines = stdout.split('\0').filter((l) => l !== '');
    assert.equal(lines.length, batch.length);
    digests.push(...lines.map((l) => l.split(' ')[0]!));
  }
  return digests;
}

/** Root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: mode 000 files really are unreadable. */
export const WITHOUT_READ_OVERRIDE = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], options: { unprivileged?: boolean; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const argv = [process.execPath, SYNKER_BIN, ...args];
  const command = options.unprivileged ? [...WITHOUT_READ_OVERRIDE, ...argv] : argv;
  return spawn(command[0]!, command.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCli(args: string[], options: { unprivileged?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = startCli(args, options);
  return finished(child);
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function parseNdjson(text: string): ManifestEntry[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ManifestEntry);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
