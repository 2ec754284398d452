/**
 * Applies a sync plan to the backup folder. Moves first (local renames, no
 * transfer), then folders, then pulls (several files in flight, each written
 * through IncomingFile and landed atomically), then metadata, then deletions
 * (into versions), then folder times. Everything replaced or removed is kept
 * in the versions folder. One file's failure is recorded and the run goes
 * on; a transport failure ends the run with partial files kept for resuming.
 */
import { constants, lstatSync } from 'node:fs';
import { access, lstat, lutimes, mkdir, open, rename, rm, rmdir, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, rethrowIfBug, SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { chmodIfSupported } from '../base/mode-bits.js';
import { MARKER_FILE } from '../manifest/layout.js';
import { SourceFileError, UnsafePathError } from '../transfer/errors.js';
import { BackupDiskError, IntegrityError, PartialFileError, SyncError, SyncGuardError } from './errors.js';
import type { FileSource } from '../transfer/file-source.js';
import { fsTime } from './fs-time.js';
import { fsyncDir } from '../base/atomic-file.js';
import { IncomingFile, prunePartials, removeEmptyPartialDir } from './incoming-file.js';
import { landFile, NameCollisionError } from './land.js';
import type { PlanEntry, SyncAction, SyncPlan } from './plan.js';
import { assertSafeRelPath, prepareParents, resolveUnderRoot } from '../transfer/safe-path.js';
import { VersionKeeper } from './versions.js';
import { lstatOrUndefined } from './lstat-optional.js';
import { siblingTempPath } from './temp-name.js';

const log = createLogger('sync');

/** Bytes of files being received at once (the files-in-flight cap applies too). */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/**
 * Files being pulled at once, from request to landing. The protocol allows 16
 * requests in flight (LIMITS.filesInFlight); the rest are files whose data is
 * in and which wait on fsync, so the disk gets many flushes at once and the
 * network does not wait on it.
 */
const DEFAULT_FILES_IN_FLIGHT = 48;

export interface SyncProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes that came over the wire (less than bytesDone when resumed or copied locally). */
  bytesReceived: number;
  startedAt: number;
  currentPath?: string;
}

export interface ApplyOptions {
  /** The backup folder root. */
  root: string;
  source: FileSource;
  /** Files in flight at once, from request to landing (default 48; at most ~8 MiB of them still receiving): small files do not wait on each other's round trips or fsyncs. */
  concurrency?: number;
  /** Extra attempts for a file that fails verification or changed on the source (default 2). */
  retries?: number;
  keeper?: VersionKeeper;
  /**
   * The backup's hash cache (the scanner's HashCache): files this run wrote
   * or renamed are recorded with their verified hash, so the next scan does
   * not read them again.
   */
  hashCache?: HashRecorder;
  /** Refuse a root without the folder marker (default true; false for `restore --to DIR`). */
  requireMarker?: boolean;
  onProgress?: (progress: SyncProgress) => void;
  /** Called once an action has been carried out (not for failed ones): what the run fixed, for its report. */
  onActionDone?: (action: SyncAction) => void;
}

/** What the applier needs of the scanner's hash cache. */
export interface HashRecorder {
  store(relPath: string, state: { size: number; mtimeMs: number; ctimeMs: number; ino: number }, hash: string): void;
}

export interface FailedItem {
  path: string;
  code: string;
  message: string;
  /** What to do about it, when synker knows. */
  hint?: string;
}

export interface ApplyResult {
  pulled: number;
  pulledBytes: number;
  bytesReceived: number;
  moved: number;
  created: number;
  metadataFixed: number;
  deleted: number;
  /** Versions kept of what was replaced or removed (paths relative to the root). */
  versions: string[];
  failed: FailedItem[];
  /** Set when the run stopped early (transport failure); what was done so far stays done. */
  aborted?: FailedItem;
}

export async function applyPlan(plan: SyncPlan, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.stops.length > 0) throw SyncGuardError.of(plan.stops);
  if (options.requireMarker ?? true) await assertMarker(options.root);
  else await mkdir(options.root, { recursive: true });
  const keeper = options.keeper ?? new VersionKeeper(options.root);
  const runner = new PlanRunner(plan, options, keeper);
  const pulls = new Set(plan.actions.flatMap((a) => (a.op === 'pull' ? [a.entry.hash] : [])));
  const stale = await prunePartials(options.root, pulls);
  if (stale.length > 0) log.info(`removed ${stale.length} partial files of content the source no longer has`);
  await runner.run();
  if (runner.result.aborted === undefined) await removeEmptyPartialDir(options.root, !(options.requireMarker ?? true));
  return runner.result;
}

async function assertMarker(root: string): Promise<void> {
  try {
    await access(path.join(root, ...MARKER_FILE.split('/')));
  } catch {
    throw new SyncError('E_SYNC_NO_MARKER', `${root} has no ${MARKER_FILE}: it is not a synker folder, or its disk is not mounted; nothing was written`, {
      hint: 'mount the disk, or set the folder up with `synker folder add`',
    });
  }
}

class PlanRunner {
  readonly result: ApplyResult = { pulled: 0, pulledBytes: 0, bytesReceived: 0, moved: 0, created: 0, metadataFixed: 0, deleted: 0, versions: [], failed: [] };
  private readonly progress: SyncProgress;
  private readonly root: string;
  /** Content landed in this run, by hash: later files with the same content are copied locally. */
  private readonly landedByHash = new Map<string, Promise<string | undefined>>();
  /**
   * What landing files needs across the run. `dirtyDirs`: folders whose
   * entries changed, fsynced once at the end of the run rather than after
   * every file: until then a power cut can only undo a rename, leaving the old
   * file (or the partial) in place, never losing data. `checkedDirs`: folders
   * this run has made or found to be real folders (not symlinks), checked once
   * rather than per file.
   */
  private readonly landing = { dirtyDirs: new Set<string>(), checkedDirs: new Set<string>() };
  private lastProgress = 0;

  constructor(
    private readonly plan: SyncPlan,
    private readonly options: ApplyOptions,
    private readonly keeper: VersionKeeper,
  ) {
    this.root = options.root;
    this.progress = { filesDone: 0, filesTotal: plan.totals.pullFiles, bytesDone: 0, bytesTotal: plan.totals.pullBytes, bytesReceived: 0, startedAt: Date.now() };
  }

  async run(): Promise<void> {
    const byOp = (op: SyncAction['op']) => this.plan.actions.filter((a) => a.op === op);
    try {
      for (const a of byOp('move')) await this.step(a, () => this.move(a as Extract<SyncAction, { op: 'move' }>));
      for (const a of byOp('set-aside')) await this.step(a, () => this.setAside(a as Extract<SyncAction, { op: 'set-aside' }>));
      for (const a of byOp('mkdir')) await this.step(a, () => this.mkdir(a as Extract<SyncAction, { op: 'mkdir' }>));
      await this.pullAll(byOp('pull') as Array<Extract<SyncAction, { op: 'pull' }>>);
      for (const a of byOp('symlink')) await this.step(a, () => this.symlink(a as Extract<SyncAction, { op: 'symlink' }>));
      for (const a of byOp('metadata')) await this.step(a, () => this.metadata(a as Extract<SyncAction, { op: 'metadata' }>));
      for (const a of byOp('delete')) await this.step(a, () => this.delete(a as Extract<SyncAction, { op: 'delete' }>));
      // Writing into a folder changes its mtime: restore folder times last, deepest first.
      const dirs = byOp('mkdir') as Array<Extract<SyncAction, { op: 'mkdir' }>>;
      for (const a of dirs.reverse()) await this.step(a, () => setTimes(resolveUnderRoot(this.root, a.at.disk), a.entry, false));
    } catch (err) {
      rethrowIfBug(err);
      this.result.aborted = toFailed(err instanceof BackupDiskError ? err.relPath : '', err);
    }
    for (const dir of this.landing.dirtyDirs) await fsyncDir(dir);
    this.result.versions = [...this.keeper.kept];
    this.emitProgress(true);
  }

  /** Runs one action; a failure of that item is recorded, a transport failure propagates. */
  private async step(action: SyncAction, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.options.onActionDone?.(action);
    } catch (err) {
      rethrowIfBug(err);
      const p = 'at' in action ? action.at.path : action.to.path;
      if (!isItemError(err)) throw BackupDiskError.of(p, err) ?? err;
      log.warn(namingPath(p, (err as Error).message));
      this.result.failed.push(toFailed(p, err));
    }
  }

  private async move(a: Extract<SyncAction, { op: 'move' }>): Promise<void> {
    const from = resolveUnderRoot(this.root, a.from.disk);
    const to = await prepareParents(this.root, a.to.disk);
    const present = lstatOrUndefined(from);
    if (present === undefined) {
      throw new SyncError('E_SYNC_MOVE_SOURCE_GONE', `${a.from.path} is no longer on the backup, so it could not be renamed to ${a.to.path}; the next sync copies it`);
    }
    if (lstatOrUndefined(to) !== undefined) await this.keeper.keepBeforeReplace(a.to.disk);
    await rename(from, to);
    await fsyncDir(path.dirname(to));
    if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
    if (a.entry && a.entry.type === 'file') {
      await setTimes(to, a.entry, true);
      if (a.entry.hash !== undefined) await this.remember(a.to.disk, a.entry.hash);
    }
    this.result.moved += a.fileCount;
  }

  private async setAside(a: Extract<SyncAction, { op: 'set-aside' }>): Promise<void> {
    await this.keeper.moveAway(a.at.disk);
  }

  private async mkdir(a: Extract<SyncAction, { op: 'mkdir' }>): Promise<void> {
    const abs = await prepareParents(this.root, a.at.disk);
    const existing = lstatOrUndefined(abs);
    if (existing !== undefined && !existing.isDirectory()) await this.keeper.moveAway(a.at.disk);
    if (existing === undefined || !existing.isDirectory()) {
      await mkdir(abs);
      await fsyncDir(path.dirname(abs));
      this.result.created++;
    }
    await setMode(abs, a.entry.mode);
  }

  private async symlink(a: Extract<SyncAction, { op: 'symlink' }>): Promise<void> {
    const abs = await prepareParents(this.root, a.at.disk);
    const existing = lstatOrUndefined(abs);
    if (existing?.isDirectory()) await this.keeper.moveAway(a.at.disk);
    else if (existing !== undefined) await this.keeper.keepBeforeReplace(a.at.disk);
    const temp = siblingTempPath(abs, 'synker-link');
    await rm(temp, { force: true });
    await symlink(a.entry.target, temp);
    await lutimes(temp, fsTime(a.entry.mtime), fsTime(a.entry.mtime)).catch((err: unknown) => {
      // Some platforms cannot set a symlink's own time; the link itself is what matters.
      if (!['ENOSYS', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes(errnoCode(err) ?? '')) throw err;
    });
    await rename(temp, abs);
    await fsyncDir(path.dirname(abs));
    this.result.created++;
  }

  private async metadata(a: Extract<SyncAction, { op: 'metadata' }>): Promise<void> {
    // Checked like a pull's parents: a symlinked parent would point chmod and utimes outside the root.
    const abs = await prepareParents(this.root, a.at.disk, this.landing.checkedDirs);
    const stats = await lstat(abs);
    await setTimes(abs, a.entry, !stats.isSymbolicLink());
    if (stats.isFile() && a.entry.hash !== undefined) await this.remember(a.at.disk, a.entry.hash);
    this.result.metadataFixed++;
  }

  private async delete(a: Extract<SyncAction, { op: 'delete' }>): Promise<void> {
    if (a.entry.type === 'dir') {
      try {
        await rmdir(resolveUnderRoot(this.root, a.at.disk));
      } catch (err) {
        // Not empty: something in it was kept (skipped or failed); leave it.
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EEXIST') throw err;
      }
      return;
    }
    if ((await this.keeper.moveAway(a.at.disk)) !== undefined) this.result.deleted++;
  }

  private async pullAll(pulls: Array<Extract<SyncAction, { op: 'pull' }>>): Promise<void> {
    const limit = Math.max(1, this.options.concurrency ?? DEFAULT_FILES_IN_FLIGHT);
    let next = 0;
    let fatal: unknown;
    // Many small files in flight hide round trips; a few large ones are enough to fill the link,
    // and more would only make the disk seek between them. The byte budget covers files whose data
    // is still arriving: one being fsynced and renamed no longer holds it, so the next transfer
    // overlaps with the disk's flush.
    let receivingBytes = 0;
    let receiving = 0;
    const waiting: Array<() => void> = [];
    const worker = async (): Promise<void> => {
      while (fatal === undefined && next < pulls.length) {
        const candidate = pulls[next]!;
        if (receiving > 0 && receivingBytes + candidate.entry.size > IN_FLIGHT_BYTES) {
          await new Promise<void>((resolve) => waiting.push(resolve));
          continue;
        }
        const a = pulls[next++]!;
        receiving++;
        receivingBytes += a.entry.size;
        let received = false;
        const doneReceiving = (): void => {
          if (received) return;
          received = true;
          receiving--;
          receivingBytes -= a.entry.size;
          for (const wake of waiting.splice(0)) wake();
        };
        this.progress.currentPath = a.at.path;
        try {
          await this.step(a, () => this.pull(a, doneReceiving));
        } catch (err) {
          fatal ??= err;
        } finally {
          doneReceiving();
        }
        this.progress.filesDone++;
        this.progress.bytesDone += a.entry.size;
        this.emitProgress(false);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, pulls.length) }, worker));
    if (fatal !== undefined) throw fatal;
  }

  private async pull(a: Extract<SyncAction, { op: 'pull' }>, onReceived: () => void): Promise<void> {
    // Refuse a hostile path before asking the source for a single byte.
    assertSafeRelPath(a.at.disk);
    assertSafeRelPath(a.at.path);
    const hash = a.entry.hash;
    // One transfer per content: a second file with the same hash waits and copies the first locally.
    const earlier = this.landedByHash.get(hash);
    let settle!: (landed: string | undefined) => void;
    this.landedByHash.set(hash, new Promise((resolve) => (settle = resolve)));
    let landedAt: string | undefined;
    try {
      const localCopy = earlier === undefined ? undefined : await earlier;
      if (a.replaces?.type === 'dir') {
        await this.keeper.moveAway(a.at.disk);
        this.landing.checkedDirs.clear();
      }
      await this.receive(a, localCopy, onReceived);
      landedAt = a.at.disk;
      this.result.pulled++;
      this.result.pulledBytes += a.entry.size;
    } finally {
      settle(landedAt);
    }
  }

  private async receive(a: Extract<SyncAction, { op: 'pull' }>, localCopy: string | undefined, onReceived: () => void): Promise<void> {
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      const incoming = await IncomingFile.open(this.root, a.at.path, a.entry);
      try {
        let sourceHash: string | undefined;
        if (localCopy !== undefined) {
          await copyLocal(resolveUnderRoot(this.root, localCopy), incoming);
        } else {
          const got = await this.options.source.fetch({ path: a.at.path, hash: a.entry.hash, size: a.entry.size, offset: incoming.resumeOffset }, async (chunk) => {
            this.result.bytesReceived += chunk.length;
            this.progress.bytesReceived += chunk.length;
            await incoming.write(chunk);
            this.emitProgress(false);
          });
          sourceHash = got.hash;
        }
        onReceived();
        await incoming.complete(sourceHash);
        await landFile(this.root, incoming.partialPath, a.at.disk, this.keeper, a.reason !== 'missing', this.landing);
        await this.remember(a.at.disk, a.entry.hash);
        return;
      } catch (err) {
        await incoming.close();
        rethrowIfBug(err);
        const retryable = err instanceof IntegrityError || err instanceof PartialFileError || (err instanceof SourceFileError && err.reason === 'changed');
        if (!retryable || attempt >= retries) throw err;
        localCopy = undefined;
        log.info(`${namingPath(a.at.path, (err as Error).message)}; retrying (${attempt + 1} of ${retries})`);
      }
    }
  }

  /** Records a file's verified hash against its state now, for the next scan. */
  private async remember(disk: string, hash: string): Promise<void> {
    const cache = this.options.hashCache;
    if (cache === undefined) return;
    const st = lstatSync(resolveUnderRoot(this.root, disk));
    if (st.isFile()) cache.store(disk, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }, hash);
  }

  private emitProgress(force: boolean): void {
    if (!this.options.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < 200) return;
    this.lastProgress = now;
    this.options.onProgress({ ...this.progress });
  }
}

/** Errors that concern one item: the run records them and goes on. */
function isItemError(err: unknown): boolean {
  if (err instanceof IntegrityError || err instanceof SourceFileError || err instanceof UnsafePathError || err instanceof NameCollisionError) return true;
  if (err instanceof BackupDiskError) return false;
  if (err instanceof SyncError) return true;
  if (err instanceof SynkerError) return false; // protocol and transport errors end the run
  const code = errnoCode(err);
  return code !== undefined && code !== 'ENOSPC' && code !== 'EROFS' && code !== 'EIO';
}

/**
 * A log line about one item that names its path once: most item errors
 * already start with it ("a.jpg: changed on the source…", "a.jpg is a folder
 * on this side…"); a system error's or an unsafe path's message does not.
 */
function namingPath(p: string, message: string): string {
  return message.startsWith(`${p}: `) || message.startsWith(`${p} `) ? message : `${p}: ${message}`;
}

function toFailed(p: string, err: unknown): FailedItem {
  if (err instanceof SynkerError) return { path: p, code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) };
  return { path: p, code: errnoCode(err) ?? 'E_UNKNOWN', message: err instanceof Error ? err.message : String(err) };
}

async function copyLocal(from: string, incoming: IncomingFile): Promise<void> {
  const handle = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = incoming.resumeOffset;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      await incoming.write(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function setTimes(abs: string, entry: PlanEntry, withMode: boolean): Promise<void> {
  if (withMode) await setMode(abs, entry.mode);
  await utimes(abs, fsTime(entry.mtime), fsTime(entry.mtime));
}

function setMode(abs: string, mode: number): Promise<void> {
  return chmodIfSupported(abs, mode);
}


