/**
 * Longer than 300 lines: the order of a run's actions and the pulls' flow control read best together.
 *
 * Applies a sync plan to the backup folder. Moves first (local renames, no
 * transfer), then folders, then pulls (several files in flight, each written
 * through IncomingFile and landed atomically), then metadata, then deletions
 * (into versions), then folder times. Everything replaced or removed is kept
 * in the versions folder. One file's failure is recorded and the run goes
 * on; a transport failure ends the run with partial files kept for resuming.
 *
 * This file holds the order and the pulls; the actions that need no transfer
 * are local-actions.ts, which errors end the run item-errors.ts, and the
 * options and result apply-types.ts.
 */
import { lstatSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, rethrowIfBug, SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { MARKER_FILE } from '../manifest/layout.js';
import { SourceFileError } from '../transfer/errors.js';
import type { ApplyOptions, ApplyResult, SyncProgress } from './apply-types.js';
import { BackupDiskError, IntegrityError, PartialFileError, SyncError, SyncGuardError } from './errors.js';
import { fsyncDir } from '../base/atomic-file.js';
import { IncomingFile } from './incoming-file.js';
import { isItemError, namingPath, toFailed } from './item-errors.js';
import { prunePartials, removeEmptyPartialDir } from './partial-files.js';
import { landFile, type LandingRun } from './land.js';
import { LocalActions } from './local-actions.js';
import { FolderTree } from '../transfer/folder-tree.js';
import type { SyncAction, SyncPlan } from './plan-types.js';
import { assertSafeRelPath, resolveUnderRoot } from '../transfer/safe-path.js';
import { VersionKeeper } from './versions.js';
import { makeDirs } from '../base/make-dirs.js';

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

export async function applyPlan(plan: SyncPlan, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.stops.length > 0) throw SyncGuardError.of(plan.stops);
  if (options.requireMarker ?? true) await assertMarker(options.root);
  else await makeDirs(options.root);
  const keeper = options.keeper ?? new VersionKeeper(options.root);
  // Every write of the run resolves through one view of the folder (transfer/folder-tree.ts).
  const tree = new FolderTree(options.root);
  keeper.useTree(tree);
  try {
    const runner = new PlanRunner(plan, options, keeper, tree);
    const pulls = new Set(plan.actions.flatMap((a) => (a.op === 'pull' ? [a.entry.hash] : [])));
    const stale = await prunePartials(options.root, pulls, tree);
    if (stale.length > 0) log.info(`removed ${stale.length} partial files of content the source no longer has`);
    await runner.run();
    if (runner.result.aborted === undefined) await removeEmptyPartialDir(options.root, !(options.requireMarker ?? true), tree);
    return runner.result;
  } finally {
    keeper.useTree(undefined);
    tree.close();
  }
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

async function assertMarker(root: string): Promise<void> {
  try {
    await access(path.join(root, ...MARKER_FILE.split('/')));
  } catch {
    throw new SyncError(
      'E_SYNC_NO_MARKER',
      `${root} has no ${MARKER_FILE}: it is not a synker folder, or its disk is not mounted; nothing was written`,
      {
        hint: 'mount the disk, or set the folder up with `synker folder add`',
      },
    );
  }
}

class PlanRunner {
  readonly result: ApplyResult = {
    pulled: 0,
    pulledBytes: 0,
    bytesReceived: 0,
    moved: 0,
    renames: 0,
    created: 0,
    metadataFixed: 0,
    deleted: 0,
    emptiedFolders: 0,
    versions: [],
    failed: [],
  };
  private readonly progress: SyncProgress;
  private readonly root: string;
  /** Content landed in this run, by hash: later files with the same content are copied locally. */
  private readonly landedByHash = new Map<string, Promise<string | undefined>>();
  /**
   * `dirtyDirs`: folders fsynced once at the end of the run, not after every file (a power cut can only
   * undo a rename, leaving the old file or the partial, never losing data). `tree`: every write's view.
   */
  private readonly landing: LandingRun;
  private readonly local: LocalActions;
  private lastProgress = 0;

  constructor(
    private readonly plan: SyncPlan,
    private readonly options: ApplyOptions,
    private readonly keeper: VersionKeeper,
    private readonly tree: FolderTree,
  ) {
    this.root = options.root;
    this.landing = { dirtyDirs: new Set<string>(), tree };
    this.progress = {
      filesDone: 0,
      filesTotal: plan.totals.pullFiles,
      bytesDone: 0,
      bytesTotal: plan.totals.pullBytes,
      bytesReceived: 0,
      startedAt: Date.now(),
    };
    this.local = new LocalActions(
      this.root,
      keeper,
      this.result,
      tree,
      (disk, hash) => this.remember(disk, hash),
      this.options.modes !== false,
    );
  }

  async run(): Promise<void> {
    const byOp = (op: SyncAction['op']) => this.plan.actions.filter((a) => a.op === op);
    try {
      for (const a of byOp('move')) await this.step(a, () => this.local.move(a as Extract<SyncAction, { op: 'move' }>));
      for (const a of byOp('set-aside')) await this.step(a, () => this.local.setAside(a as Extract<SyncAction, { op: 'set-aside' }>));
      // Folders the renames emptied go before anything is written: a file or link may take the place of one that held them.
      const [emptied, deletes] = partition(byOp('delete') as Array<Extract<SyncAction, { op: 'delete' }>>, (a) => a.emptied === true);
      for (const a of emptied) await this.step(a, () => this.removeEmptied(a));
      for (const a of byOp('mkdir')) await this.step(a, () => this.local.mkdir(a as Extract<SyncAction, { op: 'mkdir' }>));
      await this.pullAll(byOp('pull') as Array<Extract<SyncAction, { op: 'pull' }>>);
      for (const a of byOp('symlink')) await this.step(a, () => this.local.symlink(a as Extract<SyncAction, { op: 'symlink' }>));
      for (const a of byOp('metadata')) await this.step(a, () => this.local.metadata(a as Extract<SyncAction, { op: 'metadata' }>));
      for (const a of deletes) await this.step(a, () => this.local.delete(a));
      // Writing into a folder changes its mtime: restore folder times last, deepest first.
      const dirs = byOp('mkdir') as Array<Extract<SyncAction, { op: 'mkdir' }>>;
      for (const a of dirs.reverse()) await this.step(a, () => this.local.folderTime(a));
    } catch (err) {
      rethrowIfBug(err);
      this.result.aborted = toFailed(err instanceof BackupDiskError ? err.relPath : '', err);
    }
    for (const dir of this.landing.dirtyDirs) {
      await this.tree
        .at(dir, false, (d) => fsyncDir(d.self))
        .catch((err: unknown) => {
          // A folder gone or changed since a file landed in it: there is nothing of this run's left to flush.
          if (!(err instanceof SynkerError) && errnoCode(err) !== 'ENOENT') throw err;
        });
    }
    this.result.versions = [...this.keeper.kept];
    this.emitProgress(true);
  }

  /** A folder the renames emptied: removed if empty (counted), else it stays (not done). */
  private async removeEmptied(a: Extract<SyncAction, { op: 'delete' }>): Promise<boolean> {
    const removed = await this.local.delete(a);
    if (removed) this.result.emptiedFolders++;
    return removed;
  }

  /** Runs one action (`fn` false: nothing to do after all); a failure of that item is recorded, a transport failure propagates. */
  private async step(action: SyncAction, fn: () => Promise<unknown>): Promise<void> {
    try {
      if ((await fn()) !== false) await this.options.onActionDone?.(action);
    } catch (err) {
      rethrowIfBug(err);
      const p = 'at' in action ? action.at.path : action.to.path;
      if (!isItemError(err)) throw BackupDiskError.of(p, err) ?? err;
      log.warn(namingPath(p, (err as Error).message));
      this.result.failed.push(toFailed(p, err));
    }
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
      if (a.replaces?.type === 'dir') await (a.emptied ? this.local.clearEmptied(a) : this.keeper.moveAway(a.at.disk));
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
      const incoming = await IncomingFile.open(
        this.root,
        a.at.path,
        this.options.modes === false ? { ...a.entry, mode: undefined } : a.entry,
        this.tree,
      );
      try {
        let sourceHash: string | undefined;
        if (localCopy !== undefined) {
          await incoming.writeFrom(resolveUnderRoot(this.root, localCopy));
        } else {
          const got = await this.options.source.fetch(
            { path: a.at.path, hash: a.entry.hash, size: a.entry.size, offset: incoming.resumeOffset },
            async (chunk) => {
              this.result.bytesReceived += chunk.length;
              this.progress.bytesReceived += chunk.length;
              await incoming.write(chunk);
              this.emitProgress(false);
            },
          );
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
        const retryable =
          err instanceof IntegrityError || err instanceof PartialFileError || (err instanceof SourceFileError && err.reason === 'changed');
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
    resolveUnderRoot(this.root, disk);
    const st = await this.tree.parentOf(disk, false, (dir, name) => lstatSync(dir.entry(name)));
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
