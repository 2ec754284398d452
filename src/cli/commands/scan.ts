/**
 * `synker scan DIR`: print the manifest of a folder. NDJSON (--json), a
 * msgpack stream (--msgpack: one map per entry, concatenated) or an aligned
 * listing; a summary (and, on a terminal, progress) on stderr.
 */
import type { Command } from 'commander';
import { printablePath } from '../../base/printable.js';
import { errnoCode, UsageError } from '../../base/errors.js';
import { ScanError } from '../../scan/errors.js';
import type { ManifestEntry } from '../../manifest/entry.js';
import type { FolderScan, ScanStats } from '../../scan/index.js';
import { addExamples } from '../help.js';
import { action, EXIT } from '../run.js';
import { formatBytes, formatCount, formatDuration, plural } from '../../base/units.js';

interface ScanFlags {
  json?: boolean;
  msgpack?: boolean;
  hash: boolean;
  cache: boolean;
  cacheDir?: string;
  jobs?: string;
  io?: string;
  verify?: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('scan')
    .description('list and hash a folder: its manifest (path, type, size, mtime, mode, SHA-256) in manifest order')
    .argument('<dir>', 'folder to scan')
    .option('--json', 'one JSON object per line (NDJSON)')
    .option('--msgpack', 'a stream of msgpack maps, one per entry')
    .option('--no-hash', 'sizes and times only: do not read file contents')
    .option('--jobs <n>', 'files hashed at once (default: number of cores)')
    .option('--io <n>', 'files read at once; cold disks like more than --jobs (default: max(8, jobs))')
    .option('--cache-dir <dir>', 'where hash caches live (default: the user cache directory)')
    .option('--no-cache', 'neither use nor update the hash cache')
    .option('--verify', 'ignore cached hashes and re-read every file (the cache is refreshed)')
    .option('--no-progress', 'no progress line on stderr, even on a terminal')
    .addHelpText(
      'after',
      '\nExit codes: 0 scanned (unreadable items are listed as error entries), 2 usage or fatal error.\nThe manifest format is described in docs/manifest.md.',
    )
    .action(action((dir: string, flags: ScanFlags) => scanCommand(dir, flags)));
  addExamples(command, [
    ['synker scan ~/Photos', 'aligned listing; a summary on stderr'],
    ['synker scan ~/Photos --json > manifest.ndjson', 'one JSON entry per line, for scripts'],
    ['synker scan /mnt/backup --verify', 're-read every file instead of trusting the hash cache'],
    ['synker scan . --no-hash', 'sizes and times only, no file contents read'],
  ]);
}

async function scanCommand(dir: string, flags: ScanFlags): Promise<number> {
  if (flags.json && flags.msgpack) throw new UsageError('--json and --msgpack cannot be used together', 'pick one output format');
  // Loaded on use: other commands should not pay for LMDB and the hash threads at start-up.
  const { scanFolder } = await import('../../scan/index.js');
  const scan = scanFolder(dir, {
    ...(flags.jobs !== undefined ? { jobs: parseCount('--jobs', flags.jobs) } : {}),
    ...(flags.io !== undefined ? { ioConcurrency: parseCount('--io', flags.io) } : {}),
    hash: flags.hash,
    cache: flags.cache,
    ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
    verify: flags.verify ?? false,
  });
  const format = flags.json ? json : flags.msgpack ? await msgpack() : listing;
  const stopProgress = flags.progress && process.stderr.isTTY ? showProgress(scan) : () => {};
  const out = new BatchedOutput(process.stdout);
  try {
    for await (const entry of scan) {
      if (!(await out.write(format(entry)))) break; // reader went away (`| head`): stop quietly
    }
    await out.flush();
  } catch (err) {
    // Only `synker scan` has these flags: its hint names them (check and sync have none).
    if (err instanceof ScanError && err.code === 'E_SCAN_CACHE') {
      throw new ScanError(err.code, err.root, err.message, {
        cause: err,
        hint: `${err.hint ?? ''} Or choose another folder with --cache-dir, or scan with --no-cache.`.trim(),
      });
    }
    throw err;
  } finally {
    out.stop();
    stopProgress();
  }
  process.stderr.write(`${summary(scan.stats)}\n`);
  return EXIT.ok;
}

/**
 * Entries are small: writing each one is a system call (stdout to a file or
 * pipe is synchronous). Batch up to 64 KiB, and flush at least every 200 ms
 * so a slow scan still streams.
 */
class BatchedOutput {
  private chunks: Array<string | Buffer> = [];
  private bytes = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream) {
    out.on('error', () => {
      this.closed = true;
    });
    this.timer = setInterval(() => void this.flush(), 200);
    this.timer.unref();
  }

  /** false once the reader went away. */
  async write(chunk: string | Buffer): Promise<boolean> {
    if (this.closed) return false;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= 64 * 1024) await this.flush();
    return !this.closed;
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0 || this.closed) return;
    const data = typeof this.chunks[0] === 'string' ? this.chunks.join('') : Buffer.concat(this.chunks as Buffer[]);
    this.chunks = [];
    this.bytes = 0;
    let flowing: boolean;
    try {
      flowing = this.out.write(data);
    } catch (err) {
      if (errnoCode(err) !== 'EPIPE') throw err;
      this.closed = true;
      return;
    }
    if (!flowing) await drained(this.out);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Resolves when the stream can take more, or failed (the 'error' listener records that). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

function parseCount(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 256) throw new UsageError(`${flag} must be a whole number from 1 to 256, got "${value}"`);
  return n;
}

function json(entry: ManifestEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

async function msgpack(): Promise<(entry: ManifestEntry) => Buffer> {
  const { Packr } = await import('msgpackr');
  // Plain maps (no msgpackr records) so any msgpack reader can decode the stream.
  const packr = new Packr({ useRecords: false });
  return (entry) => packr.pack(entry);
}

const TYPE_LETTER: Record<ManifestEntry['type'], string> = { file: 'f', dir: 'd', symlink: 'l', error: '!' };

/** One aligned line per entry: type, mode, size, mtime (UTC), short hash, path. */
function listing(entry: ManifestEntry): string {
  const mode = entry.mode.toString(8).padStart(4, '0');
  const size = String(entry.size).padStart(12);
  const mtime = new Date(entry.mtime).toISOString().slice(0, 19).replace('T', ' ');
  const hash = (entry.hash ?? '-').slice(0, 16).padEnd(16);
  // Names escaped by the one rule (base/printable.ts): a newline, ESC, a C1 control or U+202E in a name must not forge or disguise a line.
  let line = `${TYPE_LETTER[entry.type]} ${mode} ${size} ${mtime} ${hash} ${printablePath(entry.path)}`;
  if (entry.target !== undefined) line += ` -> ${printablePath(entry.target)}`;
  if (entry.flags) line += ` [${entry.flags.join(',')}]`;
  if (entry.type === 'error') line += `  (${entry.errorCode}: ${printablePath(entry.error ?? '')})`;
  return `${line}\n`;
}

export function summary(stats: ScanStats): string {
  const seconds = stats.elapsedMs / 1000;
  const rate = seconds > 0 ? stats.hashedBytes / seconds : 0;
  const parts = [
    `${plural(stats.files, 'file')} (${formatBytes(stats.bytes)}), ${plural(stats.dirs, 'folder')}, ${plural(stats.symlinks, 'symlink')}`,
    `hashed ${formatCount(stats.hashedFiles)}, from cache ${formatCount(stats.cachedFiles)}`,
    plural(stats.errors, 'error'),
  ];
  if (stats.unstable > 0) parts.push(`${formatCount(stats.unstable)} changing while read (unstable)`);
  if (stats.skippedSpecial > 0) parts.push(`${formatCount(stats.skippedSpecial)} sockets/FIFOs/devices skipped`);
  if (stats.ignored > 0) parts.push(`${formatCount(stats.ignored)} ignored`);
  parts.push(`${formatDuration(stats.elapsedMs)}, ${formatBytes(rate)}/s hashed`);
  return `scan: ${parts.join('; ')}`;
}

function showProgress(scan: FolderScan): () => void {
  const timer = setInterval(() => {
    const s = scan.stats;
    process.stderr.write(`\r\x1b[Kscanning: ${plural(s.files, 'file')}, ${formatBytes(s.bytes)}, ${plural(s.errors, 'error')}`);
  }, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.stderr.write('\r\x1b[K');
  };
}
