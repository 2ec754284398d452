/**
 * The check history of each folder on this machine: one record per check or
 * sync that ended (scheduled, done by the agent for `synker check`, or run by
 * the CLI alone; failed ones too), for the status page's 90-day marks and its
 * differences and bytes over time. On a source, a record may also say what a
 * backup machine told it (`device`).
 *
 * On disk: `<data>/history/<name>.jsonl` (historyName: the folder ID, spelt so
 * that IDs differing only in case never share a file), one JSON record a line, in the
 * order the runs ended. Why lines and not one JSON document: a record is added
 * without rewriting the file (a check every minute for 90 days is 129,600 of
 * them), and a crash mid-write can only tear the last line.
 *
 * - Writers (the agent's schedule, a CLI, two CLIs) take a cross-process lock
 *   per file (state/lock.ts, as schedule.json's writers do) and append with
 *   O_APPEND. Under the lock a file that does not end in a newline (a writer
 *   died mid-line) gets one first, so the torn line stays one bad line and
 *   never swallows the next record.
 * - Pruned as it is written: records older than HISTORY_DAYS go, and at most
 *   HISTORY_MAX_RECORDS stay (the oldest dropped). So that a prune is not a
 *   rewrite per check, it runs when the oldest record is a day past the
 *   limit, or when the file's size says it holds some 10 % more records than
 *   the cap; the rewrite is atomic (base/atomic-file.ts) under the same lock.
 *   At most 11,000 lines of ~150 bytes: under 2 MB a folder.
 * - Readers never fail on a bad line: a torn or damaged line is skipped and
 *   counted (`skipped`). A prune that meets such lines moves the file aside
 *   as `<id>.jsonl.damaged` (one, the latest) before it writes the good
 *   records back, and says so in the log. A file bigger than any history
 *   (HISTORY_READ_MAX_BYTES) is read from its tail only, never whole. A file that cannot be read at all (its
 *   permissions, a folder in its place) is a HistoryError with a code; the
 *   callers that record a run log it and go on.
 *
 * Here in `schedule`, not in `state` (the stores): a record is made from the
 * schedule's result summary and the report model (`report`), folders above
 * `state`; and it is the schedule, the CLI's runs and the page above it that
 * write and read it.
 */
import { stat, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { renameRetrying, writeFileAtomic } from '../base/atomic-file.js';
import { SynkerError, errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { makeDirs } from '../base/make-dirs.js';
import { openHandleNoFollow } from '../base/no-follow.js';
import { historyDir } from '../dirs/data-files.js';
import { historyName, migrateHistoryNames } from './history-names.js';
import { acquireLock } from '../state/lock.js';
import { parseHistoryLine, parseHistoryText, type HistoryRecord } from './history-record.js';

export type { HistoryDevice, HistoryRecord } from './history-record.js';
export { historyRecordOf, parseHistoryLine } from './history-record.js';
export { checkedFolderId, folderOfHistoryName, historyName, migrateHistoryNames } from './history-names.js';

const log = createLogger('schedule');

/**
 * The most of a file read: its last bytes. A history holds under 2 MB; a
 * bigger file is not one synker wrote (damage, or something else under the
 * name), and is never read whole into memory.
 */
export const HISTORY_READ_MAX_BYTES = 16 * 1024 * 1024;

/** How long records are kept (and the longest `days` a reader gets). */
export const HISTORY_DAYS = 90;
/** The most records kept per folder: a check every minute for 90 days would be 129,600. */
export const HISTORY_MAX_RECORDS = 10_000;
const DAY_MS = 86_400_000;
/** A prune waits for this much more than the cap (in records) or a day more than HISTORY_DAYS. */
const PRUNE_SLACK = 0.1;
const UPDATE_WAIT_MS = 30_000;

export class HistoryError extends SynkerError {
  constructor(
    code: 'E_HISTORY_READ' | 'E_HISTORY_WRITE',
    readonly file: string,
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super(code, message, { hint, cause });
  }
}

/** `<data>/history/<name>.jsonl` (historyName); an ID that is no folder ID (a path, `..`) is refused before it names a file. */
export function historyFile(dataDir: string, folderId: string): string {
  return path.join(historyDir(dataDir), `${historyName(folderId)}.jsonl`);
}

/**
 * In-process notice that a record was appended (the folder ID): the agent's
 * HistoryFeed (history-feed.ts) reads it at once instead of waiting for the
 * file system to tell it. Records other processes append reach it through
 * the file system.
 */
export const historyAppended = new EventEmitter<{ appended: [dataDir: string, folderId: string] }>();
historyAppended.setMaxListeners(0);

export interface ReadHistoryOptions {
  /** The last this many days (default and most: HISTORY_DAYS). */
  days?: number;
  now?: number;
}

export interface HistoryRead {
  /** Oldest first. */
  checks: HistoryRecord[];
  /** Lines that held no record (a torn last line after a crash, damage): left out. */
  skipped: number;
}

/** The folder's records of the last `days` days, oldest first; none when it has no history yet. */
export async function readHistory(dataDir: string, folderId: string, options: ReadHistoryOptions = {}): Promise<HistoryRead> {
  const days = options.days ?? HISTORY_DAYS;
  if (!(typeof days === 'number' && days > 0)) throw new TypeError(`days must be a positive number, not ${String(days)}`);
  const file = historyFile(dataDir, folderId);
  await migrateHistoryNames(dataDir);
  let text: string;
  let cut: boolean;
  try {
    ({ text, cut } = await readHistoryText(file));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { checks: [], skipped: 0 };
    throw new HistoryError(
      'E_HISTORY_READ',
      file,
      `cannot read the check history ${file}: ${errnoCode(err) ?? String(err)}`,
      "Check the permissions of synker's data directory; moving the file away starts a fresh history.",
      err,
    );
  }
  const { records, skipped } = parseHistoryText(text);
  const since = (options.now ?? Date.now()) - Math.min(days, HISTORY_DAYS) * DAY_MS;
  const checks = records.filter((r) => Date.parse(r.at) >= since);
  // Ended in this order as far as the clock says: two writers may append a hair out of order.
  checks.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { checks: checks.slice(-HISTORY_MAX_RECORDS), skipped: skipped + (cut ? 1 : 0) };
}

/**
 * Adds a record to the folder's history (creating the file and its folder),
 * pruning what is too old or too many; safe beside other processes doing the
 * same. Throws a HistoryError when the file cannot be written.
 */
export async function appendHistory(dataDir: string, folderId: string, record: HistoryRecord, now = Date.now()): Promise<void> {
  const file = historyFile(dataDir, folderId);
  const line = `${JSON.stringify(record)}\n`;
  if (parseHistoryLine(line.trimEnd()) === undefined) throw new TypeError(`not a history record: ${line.trimEnd()}`);
  await migrateHistoryNames(dataDir);
  try {
    await makeDirs(path.dirname(file), 0o700);
    const lock = await acquireLock(`history:${path.resolve(file)}`, {
      purpose: 'recording a check in its history',
      waitMs: UPDATE_WAIT_MS,
      description: file,
    });
    try {
      const size = await appendLine(file, line);
      await pruneIfDue(file, size, Buffer.byteLength(line), now);
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (err instanceof SynkerError) throw err;
    throw new HistoryError(
      'E_HISTORY_WRITE',
      file,
      `cannot record the check of "${folderId}" in its history ${file}: ${errnoCode(err) ?? String(err)}`,
      "Check free disk space and the permissions of synker's data directory.",
      err,
    );
  }
  historyAppended.emit('appended', dataDir, folderId);
}

/** Appends `line` (after a newline when a torn line ends the file); returns the file's new size. */
async function appendLine(file: string, line: string): Promise<number> {
  const handle: FileHandle = await openHandleNoFollow(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw Object.assign(new Error(`not a file: ${file}`), { code: 'EISDIR' });
    let text = line;
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) text = `\n${line}`;
    }
    await handle.write(text);
    await handle.sync();
    return st.size + Buffer.byteLength(text);
  } finally {
    await handle.close();
  }
}

/** The first line's time (the oldest record, as written in order), read from the file's head only. */
async function oldestAt(file: string): Promise<number> {
  const handle = await openHandleNoFollow(file, constants.O_RDONLY);
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.subarray(0, bytesRead).toString('utf8');
    const first = text.slice(0, Math.max(0, text.indexOf('\n')));
    const record = parseHistoryLine(first);
    return record === undefined ? Number.NEGATIVE_INFINITY : Date.parse(record.at); // a bad first line: prune (and keep a copy)
  } finally {
    await handle.close();
  }
}

async function pruneIfDue(file: string, size: number, lineBytes: number, now: number): Promise<void> {
  const tooOld = (await oldestAt(file)) < now - (HISTORY_DAYS + 1) * DAY_MS;
  // Records of a folder are alike in size: the one just written says about how many the file holds.
  const tooMany = size > lineBytes * HISTORY_MAX_RECORDS * (1 + PRUNE_SLACK);
  if (tooOld || tooMany) await pruneHistoryFile(file, now);
}

/**
 * Rewrites the file with its records of the last HISTORY_DAYS days, the
 * newest HISTORY_MAX_RECORDS of them. The caller holds the file's lock.
 */
export async function pruneHistoryFile(file: string, now: number): Promise<void> {
  const { text, cut } = await readHistoryText(file);
  const parsed = parseHistoryText(text);
  const { records } = parsed;
  // A file cut short for its size (readHistoryText) lost its head: damage too, kept aside below.
  const skipped = parsed.skipped + (cut ? 1 : 0);
  const since = now - HISTORY_DAYS * DAY_MS;
  const kept = records.filter((r) => Date.parse(r.at) >= since).slice(-HISTORY_MAX_RECORDS);
  // Lines longer than the last one set the size trigger off early: nothing to drop, nothing to rewrite.
  if (skipped === 0 && kept.length === records.length) return;
  if (skipped > 0) {
    // Moved, not copied: a damaged file may be big. Readers meanwhile find no history, for a moment.
    await renameRetrying(file, `${file}.damaged`);
    log.warn(
      `${file} had ${cut ? 'more than a history holds and ' : ''}${skipped} damaged line(s), left out; the file as it was is kept as ${path.basename(file)}.damaged`,
    );
  }
  await writeFileAtomic(
    file,
    kept.map((r) => `${JSON.stringify(r)}\n`),
  );
}

/**
 * The file's text, or its last HISTORY_READ_MAX_BYTES from a line's start
 * when it is bigger (`cut`: the head was left out). No symlink is followed.
 */
export async function readHistoryText(file: string, maxBytes = HISTORY_READ_MAX_BYTES): Promise<{ text: string; cut: boolean }> {
  const handle = await openHandleNoFollow(file, constants.O_RDONLY);
  try {
    const { size } = await handle.stat();
    const from = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - from);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    let bytes = buffer.subarray(0, read);
    if (from === 0) return { text: bytes.toString('utf8'), cut: false };
    // Cut: start after the first newline, so no half line reads as a record.
    bytes = bytes.subarray(bytes.indexOf(0x0a) + 1);
    return { text: bytes.toString('utf8'), cut: true };
  } finally {
    await handle.close();
  }
}

/**
 * The file's size and identity (its inode or, on Windows, its NTFS file ID),
 * for a watcher that reads what was appended (history-feed.ts). The identity
 * is read exactly (bigint): an NTFS file ID passes 2^53 once its sequence
 * number does, and as a double two files made one after the other (the
 * history and the file a prune put in its place) could read as one.
 */
export async function historyFileStat(file: string): Promise<{ size: number; ino: bigint } | undefined> {
  try {
    const st = await stat(file, { bigint: true });
    return st.isFile() ? { size: Number(st.size), ino: st.ino } : undefined;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
