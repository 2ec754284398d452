/**
 * "A check of folder X ended", for the status page's live updates: the agent
 * starts one HistoryFeed and hands each event to the page (server-sent
 * events). One source for every run: the history file (history.ts), which
 * every run appends to once its last report is written, whoever ran it.
 * - In the agent's own process (the schedule), appendHistory tells the feed
 *   at once (historyAppended).
 * - Another process (a `synker check` or `sync` run by hand, with or without
 *   the agent doing the check) only writes files: the feed watches the
 *   history folder (fs.watch: inotify, FSEvents, ReadDirectoryChangesW), and
 *   also looks at the files' sizes every `pollMs` (default 5 s) where a file
 *   system does not tell (network mounts) or a watch cannot be set up.
 * Either way it reads only what was appended since it last looked (the
 * file's size is the mark), and emits one event per new record, in order.
 * A file that was replaced (a prune rewrote it, or someone moved it away) is
 * read again whole, and the records newer than the last one emitted are
 * emitted. Events are never replayed from before the feed started.
 *
 * Why not an event from the control path when the agent finishes a check for
 * the CLI: the CLI records that run after the agent sends it the report, so
 * the page would ask for the folder before its last report is written.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { createLogger } from '../base/log.js';
import { makeDirs } from '../base/make-dirs.js';
import { historyDir } from '../dirs/data-files.js';
import path from 'node:path';
import {
  folderOfHistoryName,
  HISTORY_READ_MAX_BYTES,
  historyAppended,
  historyFile,
  historyFileStat,
  migrateHistoryNames,
  parseHistoryLine,
  type HistoryRecord,
} from './history.js';
import type { CheckStatus } from './state.js';

const log = createLogger('schedule');

export interface CheckEnded {
  folder: string;
  /** When it ended (ISO). */
  at: string;
  status: CheckStatus;
  record: HistoryRecord;
}

export interface HistoryFeedOptions {
  /** How often file sizes are compared, for what no watch reported (ms; default 5000). */
  pollMs?: number;
}

interface Mark {
  ino: bigint;
  /** Bytes read up to the end of the last whole line. */
  offset: number;
  /** The last record emitted (or seen at start): a replaced file is read from after it. */
  lastAt: number;
}

export class HistoryFeed {
  private readonly dir: string;
  private readonly listeners = new Set<(event: CheckEnded) => void>();
  private readonly marks = new Map<string, Mark>();
  /** One look at a time per folder: two would read the same bytes twice. */
  private readonly looking = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onAppended = (dataDir: string, folderId: string): void => {
    if (path.resolve(dataDir) === path.resolve(this.dataDir)) this.look(folderId);
  };

  private constructor(
    readonly dataDir: string,
    private readonly pollMs: number,
  ) {
    this.dir = historyDir(dataDir);
  }

  /** Starts watching; runs recorded before this are not events. */
  static async start(dataDir: string, options: HistoryFeedOptions = {}): Promise<HistoryFeed> {
    const feed = new HistoryFeed(dataDir, options.pollMs ?? 5000);
    await makeDirs(feed.dir, 0o700);
    await migrateHistoryNames(dataDir);
    for (const folder of await feed.folders()) {
      // A file it cannot read now is read whole when it changes: never a reason for the agent not to start.
      await feed.markEnd(folder).catch((err: unknown) => log.debug(`reading the history of ${folder}: ${(err as Error).message}`));
    }
    historyAppended.on('appended', feed.onAppended);
    try {
      feed.watcher = watch(feed.dir, { persistent: false }, (_event, name) => {
        const folder = typeof name === 'string' ? folderOf(name) : undefined;
        if (folder !== undefined) feed.look(folder);
        else feed.lookAll();
      });
      feed.watcher.on('error', (err) => {
        log.debug(`watching ${feed.dir} stopped (${err.message}); looking every ${feed.pollMs} ms`);
        feed.watcher?.close();
        feed.watcher = undefined;
      });
    } catch (err) {
      log.debug(`cannot watch ${feed.dir} (${(err as Error).message}); looking every ${feed.pollMs} ms`);
    }
    feed.timer = setInterval(() => feed.lookAll(), feed.pollMs);
    feed.timer.unref();
    return feed;
  }

  /** Calls `listener` for every check or sync that ends from now on; returns the way to stop. */
  subscribe(listener: (event: CheckEnded) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    historyAppended.off('appended', this.onAppended);
    this.watcher?.close();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.listeners.clear();
    await Promise.allSettled([...this.looking.values()]);
  }

  /** Resolves once every look started so far has finished (tests, and a clean stop). */
  async settled(): Promise<void> {
    while (this.looking.size > 0) await Promise.allSettled([...this.looking.values()]);
  }

  private async folders(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).map(folderOf).filter((f): f is string => f !== undefined);
    } catch {
      return [];
    }
  }

  private lookAll(): void {
    void this.folders().then((folders) => {
      for (const folder of folders) this.look(folder);
    });
  }

  private look(folder: string): void {
    if (this.closed) return;
    if (this.looking.has(folder)) {
      this.again.add(folder);
      return;
    }
    const done = this.read(folder)
      .catch((err: unknown) => log.debug(`reading the history of ${folder} for the page: ${(err as Error).message}`))
      .finally(() => {
        this.looking.delete(folder);
        if (this.again.delete(folder)) this.look(folder);
      });
    this.looking.set(folder, done);
  }

  /** Where a file's records end now: the start of what the feed will read next. */
  private async markEnd(folder: string): Promise<void> {
    const st = await historyFileStat(historyFile(this.dataDir, folder));
    if (st === undefined) return;
    const { records, end } = await readFrom(historyFile(this.dataDir, folder), 0, st.size);
    this.marks.set(folder, {
      ino: st.ino,
      offset: end,
      lastAt: records.reduce((at, r) => Math.max(at, Date.parse(r.at)), Number.NEGATIVE_INFINITY),
    });
  }

  private async read(folder: string): Promise<void> {
    const file = historyFile(this.dataDir, folder);
    const st = await historyFileStat(file);
    if (st === undefined) return;
    const mark = this.marks.get(folder) ?? { ino: st.ino, offset: 0, lastAt: Number.NEGATIVE_INFINITY };
    const replaced = mark.ino !== st.ino || st.size < mark.offset;
    if (!replaced && st.size === mark.offset) return;
    const { records, end } = await readFrom(file, replaced ? 0 : mark.offset, st.size);
    const fresh = replaced ? records.filter((r) => Date.parse(r.at) > mark.lastAt) : records;
    let lastAt = mark.lastAt;
    for (const r of fresh) lastAt = Math.max(lastAt, Date.parse(r.at));
    this.marks.set(folder, { ino: st.ino, offset: end, lastAt });
    for (const record of fresh) this.emit({ folder, at: record.at, status: record.status, record });
  }

  private emit(event: CheckEnded): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        log.error('a listener of ended checks failed', err);
      }
    }
  }
}

/** The folder a history file belongs to; undefined for any other name (last reports, temporary files, copies). */
function folderOf(name: string): string | undefined {
  if (!name.endsWith('.jsonl')) return undefined;
  return folderOfHistoryName(name.slice(0, -'.jsonl'.length));
}

/**
 * The whole lines between `from` and `size` (a line still being written waits for the next look); at most
 * the last HISTORY_READ_MAX_BYTES of them, from a line's start (a file that big is not a history synker wrote).
 */
async function readFrom(file: string, start: number, size: number): Promise<{ records: HistoryRecord[]; end: number }> {
  const from = Math.max(start, size - HISTORY_READ_MAX_BYTES);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    let text = buffer.subarray(0, bytesRead);
    let base = from;
    if (from > start) {
      const skip = text.indexOf(0x0a) + 1;
      text = text.subarray(skip);
      base += skip;
    }
    const lastNewline = text.lastIndexOf(0x0a);
    if (lastNewline < 0) return { records: [], end: base };
    const records: HistoryRecord[] = [];
    for (const line of text.subarray(0, lastNewline).toString('utf8').split('\n')) {
      const record = parseHistoryLine(line);
      if (record !== undefined) records.push(record);
    }
    return { records, end: base + lastNewline + 1 };
  } finally {
    await handle.close();
  }
}
