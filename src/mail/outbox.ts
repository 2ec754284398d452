/**
 * Longer than 300 lines: it is one class over one directory; the message
 * files, the sent journal and the lock share its paths, its error
 * (OutboxStorageError) and its atomic writes, and pulling the lock or the
 * journal out (~40 lines each) would hand all three back in as parameters.
 *
 * The outbox: every message is written here (atomically) before the first
 * delivery attempt and removed only after the SMTP server accepted it, so a
 * server that is down, a refused login, a crash or a power cut never loses a
 * report. One JSON file per message, named after its Message-ID: queueing the
 * same message twice stores it once. A lock file keeps the agent and
 * `synker outbox --send` from sending the same message at the same time.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from '../base/atomic-file.js';
import { SynkerError, errnoCode, rethrowIfBug } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import type { ComposedMessage } from './compose.js';
import { MailDeliveryError, type DeliveryResult, type Envelope, type Mailer } from './mailer.js';
import { makeDirs } from '../base/make-dirs.js';

const log = createLogger('outbox');
const FORMAT_VERSION = 1;
const LOCK_FILE = '.lock';
/** Message-IDs the server accepted, so queueing an already delivered message again is a no-op. */
const SENT_JOURNAL = 'sent.log';
const SENT_JOURNAL_KEEP = 1000;
/** A lock older than this whose owner cannot be checked is treated as abandoned. */
const STALE_LOCK_MS = 6 * 3_600_000;

export interface OutboxError {
  code: string;
  message: string;
  hint?: string;
}

export interface OutboxEntry {
  /** File stem: a digest of the Message-ID. */
  id: string;
  messageId: string;
  subject: string;
  /** When the message was composed (ISO). */
  createdAt: string;
  envelope: Envelope;
  attempts: number;
  lastAttemptAt?: string;
  lastError?: OutboxError;
  /** Size of the message in bytes. */
  size: number;
}

interface StoredEntry extends Omit<OutboxEntry, 'id' | 'size'> {
  version: number;
  raw: string;
}

export interface FlushResult {
  sent: Array<{ entry: OutboxEntry; result: DeliveryResult }>;
  failed: Array<{ entry: OutboxEntry; error: MailDeliveryError }>;
  /** Messages still waiting after this flush. */
  remaining: number;
  /** Another process holds the outbox lock; nothing was sent. */
  busy: boolean;
}

export class OutboxStorageError extends SynkerError {
  /** The message file that cannot be decoded (kept, never deleted); undefined when the outbox itself failed. */
  readonly damagedFile: string | undefined;
  constructor(message: string, hint: string, cause?: unknown, damagedFile?: string) {
    super('E_OUTBOX', message, { hint, cause });
    this.damagedFile = damagedFile;
  }
}

export function outboxIdFor(messageId: string): string {
  return createHash('sha256').update(messageId).digest('hex').slice(0, 24);
}

function toOutboxError(err: unknown): OutboxError {
  if (err instanceof SynkerError)
    return err.hint === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, hint: err.hint };
  return { code: 'E_UNKNOWN', message: err instanceof Error ? err.message : String(err) };
}

export class Outbox {
  readonly dir: string;
  private readonly now: () => number;

  constructor(dir: string, now: () => number = Date.now) {
    this.dir = dir;
    this.now = now;
  }

  private fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /**
   * Stores a message; a message with the same Message-ID already waiting is
   * kept as it is, and one already delivered is not queued again (undefined).
   */
  async add(message: ComposedMessage): Promise<OutboxEntry | undefined> {
    await makeDirs(this.dir, 0o700);
    await this.removeOrphanedTemps();
    const id = outboxIdFor(message.messageId);
    const existing = await this.read(id);
    if (existing) return existing.entry;
    if ((await this.sentIds()).has(message.messageId)) {
      log.debug(`${message.messageId} was delivered already; not queueing it again`);
      return undefined;
    }
    const stored: StoredEntry = {
      version: FORMAT_VERSION,
      messageId: message.messageId,
      subject: message.subject,
      createdAt: message.date,
      envelope: message.envelope,
      attempts: 0,
      raw: message.raw.toString('base64'),
    };
    await this.write(id, stored);
    log.debug(`queued ${message.messageId} "${message.subject}"`);
    return entryOf(id, stored);
  }

  /** Waiting messages, oldest first. Files that cannot be read are reported, never deleted. */
  async list(): Promise<OutboxEntry[]> {
    return (await this.inspect()).entries;
  }

  /**
   * Waiting messages, oldest first, and the files that cannot be read (kept,
   * never deleted: a person can still open them): a damaged message is one
   * that will never be sent, which `synker outbox` and `status` must say.
   */
  async inspect(): Promise<{ entries: OutboxEntry[]; damaged: string[] }> {
    const entries: OutboxEntry[] = [];
    const damaged: string[] = [];
    for (const id of await this.ids()) {
      try {
        const found = await this.read(id);
        if (found) entries.push(found.entry);
      } catch (err) {
        // One damaged file must not hold back every other report.
        if (!(err instanceof OutboxStorageError) || err.damagedFile === undefined) throw err;
        log.warn(err.message);
        damaged.push(this.fileOf(id));
      }
    }
    entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return { entries, damaged };
  }

  async size(): Promise<number> {
    return (await this.ids()).length;
  }

  /** The raw bytes of a waiting message (for `synker outbox --show` and tests). */
  async raw(id: string): Promise<Buffer | undefined> {
    const found = await this.read(id);
    return found ? Buffer.from(found.stored.raw, 'base64') : undefined;
  }

  /**
   * Tries to send every waiting message, oldest first. A message leaves the
   * outbox only after the server accepted it. When the server cannot be
   * reached or refuses the login, the remaining messages are not tried: they
   * would fail the same way.
   */
  async flush(mailer: Mailer): Promise<FlushResult> {
    const result: FlushResult = { sent: [], failed: [], remaining: 0, busy: false };
    if ((await this.ids()).length === 0) return result;
    const release = await this.lock();
    if (!release) {
      result.busy = true;
      result.remaining = await this.size();
      return result;
    }
    try {
      for (const entry of await this.list()) {
        const found = await this.read(entry.id);
        if (!found) continue; // sent by someone else meanwhile
        const { stored } = found;
        stored.attempts += 1;
        stored.lastAttemptAt = new Date(this.now()).toISOString();
        try {
          const delivery = await mailer.send(Buffer.from(stored.raw, 'base64'), stored.envelope);
          // Accepted: record it, and only then let the message leave the outbox.
          await this.recordSent(stored.messageId, delivery.response);
          await unlink(this.fileOf(entry.id));
          await fsyncDir(this.dir);
          // Debug only: each caller says it in its own words (the agent's log, the command's output), once.
          log.debug(`delivered "${stored.subject}" to ${stored.envelope.to.join(', ')}: ${delivery.response}`);
          result.sent.push({ entry: entryOf(entry.id, stored), result: delivery });
        } catch (err) {
          rethrowIfBug(err);
          if (!(err instanceof MailDeliveryError)) throw err;
          stored.lastError = toOutboxError(err);
          await this.write(entry.id, stored);
          result.failed.push({ entry: entryOf(entry.id, stored), error: err });
          if (err.failure !== 'rejected' && err.failure !== 'recipients') break;
        }
      }
    } finally {
      await release();
    }
    result.remaining = await this.size();
    return result;
  }

  /** Was this Message-ID accepted by the server already? */
  async wasSent(messageId: string): Promise<boolean> {
    return (await this.sentIds()).has(messageId);
  }

  private async sentIds(): Promise<Set<string>> {
    try {
      const text = await readFile(path.join(this.dir, SENT_JOURNAL), 'utf8');
      return new Set(
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split('\t')[0]!),
      );
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return new Set();
      throw new OutboxStorageError(
        `cannot read ${path.join(this.dir, SENT_JOURNAL)}: ${errnoCode(err) ?? String(err)}`,
        "Check the permissions of synker's data directory.",
        err,
      );
    }
  }

  /** Appends to the journal of delivered messages, keeping the last SENT_JOURNAL_KEEP. */
  private async recordSent(messageId: string, response: string): Promise<void> {
    const file = path.join(this.dir, SENT_JOURNAL);
    const line = `${messageId}\t${new Date(this.now()).toISOString()}\t${response.replace(/[\t\r\n]+/g, ' ')}\n`;
    let lines: string[] = [];
    try {
      lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    lines.push(line.trimEnd());
    const text = `${lines.slice(-SENT_JOURNAL_KEEP).join('\n')}\n`;
    await this.writeAtomic(file, text);
  }

  private async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw new OutboxStorageError(
        `cannot read the outbox ${this.dir}: ${errnoCode(err) ?? String(err)}`,
        "Check the permissions of synker's data directory.",
        err,
      );
    }
    return names
      .filter((n) => /^[0-9a-f]{24}\.json$/.test(n))
      .map((n) => n.slice(0, -5))
      .sort();
  }

  private async read(id: string): Promise<{ entry: OutboxEntry; stored: StoredEntry } | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new OutboxStorageError(
        `cannot read the outbox message ${this.fileOf(id)}: ${errnoCode(err) ?? String(err)}`,
        "Check the permissions of synker's data directory.",
        err,
      );
    }
    let stored: StoredEntry;
    try {
      stored = JSON.parse(text) as StoredEntry;
      if (
        stored.version !== FORMAT_VERSION ||
        typeof stored.raw !== 'string' ||
        typeof stored.messageId !== 'string' ||
        !Array.isArray(stored.envelope?.to)
      ) {
        throw new Error(`unexpected content (format version ${String(stored.version)})`);
      }
    } catch (err) {
      throw new OutboxStorageError(
        `the outbox message ${this.fileOf(id)} is damaged: ${(err as Error).message}`,
        'Move the file out of the outbox to continue; it holds the message text (base64 in "raw").',
        err,
        this.fileOf(id),
      );
    }
    return { entry: entryOf(id, stored), stored };
  }

  /** Write-to-temp, fsync, rename, fsync the folder: a reader sees the old file or the new one, never half. */
  private async write(id: string, stored: StoredEntry): Promise<void> {
    await this.writeAtomic(this.fileOf(id), JSON.stringify(stored));
  }

  private async writeAtomic(file: string, content: string): Promise<void> {
    try {
      await writeFileAtomic(file, content);
    } catch (err) {
      throw new OutboxStorageError(
        `cannot write to the outbox ${this.dir}: ${errnoCode(err) ?? String(err)}`,
        "Check free disk space and the permissions of synker's data directory.",
        err,
      );
    }
  }

  /**
   * Removes the temporary files of writers killed mid-write (writeFileAtomic names them
   * `.NAME.PID.HEX.tmp`; never renamed, so never a message): a crash while a large report was
   * queued must not leave its bytes in the outbox for ever. A live writer's file is left alone.
   */
  private async removeOrphanedTemps(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const pid = Number(/^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name)?.[1] ?? Number.NaN);
      if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
      log.info(`removing ${name}, left by a process that stopped while writing to the outbox`);
      await rm(path.join(this.dir, name), { force: true });
    }
  }

  /** Takes the outbox lock, or returns undefined when a live process holds it. */
  private async lock(): Promise<(() => Promise<void>) | undefined> {
    const file = path.join(this.dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return () => rm(file, { force: true });
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST')
          throw new OutboxStorageError(
            `cannot lock the outbox ${this.dir}: ${errnoCode(err) ?? String(err)}`,
            "Check the permissions of synker's data directory.",
            err,
          );
      }
      if (!(await this.lockIsAbandoned(file))) return undefined;
      log.warn(`removing an abandoned outbox lock ${file}`);
      await rm(file, { force: true });
    }
    return undefined;
  }

  private async lockIsAbandoned(file: string): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      const pid = Number.parseInt(text, 10);
      if (Number.isInteger(pid) && pid > 0) {
        if (pid === process.pid) return false;
        try {
          process.kill(pid, 0);
          return false;
        } catch (err) {
          return errnoCode(err) === 'ESRCH';
        }
      }
      return this.now() - st.mtimeMs > STALE_LOCK_MS;
    } catch (err) {
      return errnoCode(err) === 'ENOENT';
    }
  }
}

/** Whether a process with this ID runs (one we may not signal runs too). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

function entryOf(id: string, stored: StoredEntry): OutboxEntry {
  const entry: OutboxEntry = {
    id,
    messageId: stored.messageId,
    subject: stored.subject,
    createdAt: stored.createdAt,
    envelope: stored.envelope,
    attempts: stored.attempts,
    size: Math.floor((stored.raw.length * 3) / 4),
  };
  if (stored.lastAttemptAt !== undefined) entry.lastAttemptAt = stored.lastAttemptAt;
  if (stored.lastError !== undefined) entry.lastError = stored.lastError;
  return entry;
}
