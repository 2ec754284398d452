/**
 * The backup agent's check schedule. A short periodic tick compares the wall
 * clock with each folder's next due time, instead of one long timer: Node's
 * timers follow a monotonic clock that stops while a laptop sleeps, so a long
 * timer would fire hours late after wake. The tick also notices the jump in
 * wall-clock time after a sleep and treats it like a fresh start: a check
 * missed meanwhile runs `catchUpDelay` later (time for the network to come
 * back), not at once and not at the next slot a day later.
 *
 * One check runs at a time. After each, the result is recorded in the state
 * file and the e-mail policy (policy.ts) decides what to send. The file is
 * read on every pass and changed under its lock (state.ts update()): a
 * `synker check` or `sync` run by hand records its verification there too.
 */
import type { Cron } from 'croner';
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import type { Clock } from './clock.js';
import { afterCheck, type Notice } from './policy.js';
import { createCron, type ScheduleSettings } from '../config/schedule.js';
import { laterVerified, type CheckResultSummary, type FolderScheduleState, type ScheduleState, type ScheduleStateStore } from './state.js';
import { formatDuration } from '../base/units.js';

const log = createLogger('schedule');

export interface CheckRun<R> {
  summary: CheckResultSummary;
  /** The full report, for the e-mail (absent when the check failed). */
  report?: R;
}

export interface SchedulerOptions<R> {
  settings: ScheduleSettings;
  clock: Clock;
  store: ScheduleStateStore;
  /** Backup-role folder IDs, asked on every tick so config changes apply without a restart. */
  folders: () => string[] | Promise<string[]>;
  runCheck: (folderId: string) => Promise<CheckRun<R>>;
  /** Queue the e-mail for a notice (through the outbox). */
  notify: (notice: Notice, run: CheckRun<R>) => Promise<void>;
  /**
   * Keep the run where the status page reads it (record.ts recordRun: the last report, the history), after
   * the state is written. Best effort: a failure is logged and the schedule goes on.
   */
  record?: (folderId: string, run: CheckRun<R>) => Promise<void>;
  /** Retry what waits in the outbox. */
  retryOutbox?: () => Promise<void>;
  /** How often the wall clock is compared with the schedule (default 30 s). */
  tickMs?: number;
}

/** Why checkNow() did not start a check. */
export type CheckNowRefusal = 'running' | 'stopped';

export class CheckScheduler<R> {
  private readonly options: SchedulerOptions<R>;
  private cron: Cron;
  private readonly tickMs: number;
  /** Last start or wake-up: slots missed before it are caught up `catchUpDelay` after it. */
  private wokeAt: number;
  private lastTickAt: number;
  private lastOutboxRetryAt: number;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The folder whose check runs now, and those asked for by checkNow() that wait for it. */
  private current: string | undefined;
  private readonly asked = new Set<string>();

  constructor(options: SchedulerOptions<R>) {
    this.options = options;
    this.cron = createCron(options.settings.check, options.settings.timezone);
    this.tickMs = options.tickMs ?? 30_000;
    const now = options.clock.now();
    this.wokeAt = now;
    this.lastTickAt = now;
    this.lastOutboxRetryAt = now - options.settings.outboxRetryMs; // retry the outbox on the first tick
  }

  /**
   * New settings from an edited config, from the next pass on: the schedule,
   * retries, alerts and e-mail policy follow the file without a restart.
   */
  updateSettings(settings: ScheduleSettings): void {
    this.cron = createCron(settings.check, settings.timezone);
    this.options.settings = settings;
  }

  start(): void {
    this.stopped = false;
    this.wokeAt = this.options.clock.now();
    this.lastTickAt = this.wokeAt;
    this.arm(0);
  }

  /** Stops ticking and waits for a running check to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }

  /**
   * When a folder's next check is due: the first scheduled slot after its last
   * attempt, sooner after a failure (retryAfter), and never earlier than
   * `catchUpDelay` after a start or wake-up when the slot was missed.
   */
  dueAt(folder: FolderScheduleState): number {
    return nextCheckAt(this.cron, this.options.settings, folder, this.wokeAt);
  }

  /** One pass: run whatever is due, retry the outbox when it is time. Safe to call directly (tests). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    return this.serially(() => this.pass());
  }

  /**
   * The folder's check, now (the status page's "check now"): the check the
   * schedule runs, recorded and mailed as a scheduled one, after whatever
   * check runs at the moment (one at a time). Refused while the folder's
   * check runs or already waits.
   */
  checkNow(folderId: string): CheckNowRefusal | undefined {
    if (this.stopped) return 'stopped';
    if (this.current === folderId || this.asked.has(folderId)) return 'running';
    this.asked.add(folderId);
    void this.serially(async () => {
      try {
        if (this.stopped) return;
        const now = new Date(this.options.clock.now()).toISOString();
        const state = await this.options.store.update((fresh) => {
          fresh.folders[folderId] ??= { firstSeenAt: now };
          return fresh;
        });
        await this.runOne(state, folderId);
      } finally {
        this.asked.delete(folderId);
      }
    }).catch((err: unknown) => log.error(`the check of ${folderId} asked for failed`, err));
    return undefined;
  }

  /** Runs `work` after whatever runs now: passes and checks asked for never overlap. */
  private serially(work: () => Promise<void>): Promise<void> {
    const mine: Promise<void> = (this.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(work)
      .finally(() => {
        if (this.running === mine) this.running = undefined;
      });
    this.running = mine;
    return mine;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.cancelTimer = this.options.clock.setTimer(ms, () => {
      void this.tick()
        .catch((err: unknown) => log.error('scheduled work failed', err))
        .finally(() => this.arm(this.tickMs));
    });
  }

  private async pass(): Promise<void> {
    // First: asking for the folders is when an edited config (its schedule too) is taken in.
    const folderIds = await this.options.folders();
    const { clock, store, settings } = this.options;
    const now = clock.now();
    // A gap much longer than the tick means the machine slept (or synker was stopped).
    if (now - this.lastTickAt > Math.max(4 * this.tickMs, 120_000)) {
      log.info(`woke up after ${formatDuration(now - this.lastTickAt)}; missed checks run in ${formatDuration(settings.catchUpDelayMs)}`);
      this.wokeAt = now;
    }
    this.lastTickAt = now;

    // Read on every pass: a check or sync run by hand records its verification in the same file.
    let state = await store.load();
    if (folderIds.some((id) => !state.folders[id])) {
      state = await store.update((fresh) => {
        for (const id of folderIds) fresh.folders[id] ??= { firstSeenAt: new Date(now).toISOString() };
        return fresh;
      });
    }

    for (const id of folderIds) {
      if (this.stopped) break;
      const folder = state.folders[id]!;
      if (clock.now() < this.dueAt(folder)) continue;
      await this.runOne(state, id);
    }

    if (this.options.retryOutbox && clock.now() - this.lastOutboxRetryAt >= settings.outboxRetryMs) {
      this.lastOutboxRetryAt = clock.now();
      try {
        await this.options.retryOutbox();
      } catch (err) {
        log.warn('retrying the outbox failed:', err);
      }
    }
  }

  private async runOne(state: ScheduleState, id: string): Promise<void> {
    const { clock, store, settings } = this.options;
    log.info(`scheduled check of ${id}`);
    let run: CheckRun<R>;
    this.current = id;
    try {
      run = await this.options.runCheck(id);
    } catch (err) {
      // A failing check must not stop the schedule of the others; it is recorded like any failure.
      if (!(err instanceof SynkerError)) log.error(`the check of ${id} failed unexpectedly`, err);
      run = { summary: errorSummary(err, clock.now()) };
    } finally {
      this.current = undefined;
    }
    // Decided on the state as it is now (a manual check may have verified the backup during this one).
    const before = (await store.load()).folders[id] ?? state.folders[id]!;
    const decided = afterCheck(settings, id, before, run.summary, clock.now());
    for (const notice of decided.notices) {
      // A "not verified" alert says when the next try comes: the schedule's next slot or retryAfter, whichever is sooner.
      const nextTry = nextCheckAt(this.cron, settings, decided.state, 0);
      if (notice.kind === 'stale' && Number.isFinite(nextTry)) notice.retryInMs = nextTry - Date.parse(decided.state.lastAttemptAt!);
      try {
        await this.options.notify(notice, run);
      } catch (err) {
        log.error(`could not queue the ${notice.kind} e-mail for ${id}:`, err);
      }
    }
    await store.update((fresh) => {
      // A verification by hand recorded while the mail went out is kept when it is the later one.
      const lastVerified = laterVerified(decided.state.lastVerified, fresh.folders[id]?.lastVerified);
      fresh.folders[id] = { ...decided.state, ...(lastVerified === undefined ? {} : { lastVerified }) };
    });
    if (this.options.record !== undefined) {
      try {
        await this.options.record(id, run);
      } catch (err) {
        log.warn(`could not record the check of ${id} in its history:`, err);
      }
    }
    log.info(`check of ${id}: ${run.summary.summary}`);
  }
}

/**
 * When a folder's next check is due: the first scheduled slot after its last
 * attempt, sooner after a failure (retryAfter), and never earlier than
 * `catchUpDelay` after a start or wake-up (`wokeAt`) when the slot was missed.
 */
export function nextCheckAt(cron: Cron, settings: ScheduleSettings, folder: FolderScheduleState, wokeAt: number): number {
  const lastAttempt = Date.parse(folder.lastAttemptAt ?? folder.firstSeenAt);
  let due = cron.nextRun(new Date(lastAttempt))?.getTime() ?? Number.POSITIVE_INFINITY;
  if (folder.lastResult?.status === 'error') due = Math.min(due, lastAttempt + settings.retryAfterMs);
  if (due < wokeAt) due = wokeAt + settings.catchUpDelayMs;
  return due;
}

export function errorSummary(err: unknown, now: number): CheckResultSummary {
  const error =
    err instanceof SynkerError
      ? { code: err.code, message: err.message, ...(err.hint !== undefined ? { hint: err.hint } : {}) }
      : { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) };
  return { status: 'error', at: new Date(now).toISOString(), summary: error.message, error };
}
