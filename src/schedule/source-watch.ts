/**
 * The staleness e-mail from the source's side: on a source, the agent
 * watches what its backups told it (backup-verdicts.ts) and, when no backup
 * machine has verified a folder within the schedule's `staleAfter`, sends
 * one "no backup verified since" alert; when one verifies it again, one
 * recovery mail. Once per episode: the alert is recorded in the schedule
 * state (`staleAlertAt`, `staleSince` of the source folder, written under
 * its lock) and the mails are keyed by folder and "since" in the outbox.
 *
 * Only folders that at least one backup has reported on are watched: a
 * backup running a synker that does not tell its source (or none set up
 * yet) is no alarm on the source; `synker status` says "no backup has
 * reported" instead.
 */
import { createLogger, type Logger } from '../base/log.js';
import { printableText } from '../base/printable.js';
import { shortDeviceId } from '../identity/device-id.js';
import { outboxDir, scheduleStateFile } from '../dirs/data-files.js';
import { scheduleSettingsOf, smtpSettingsOf } from '../config/settings.js';
import { Outbox } from '../mail/outbox.js';
import type { ScheduleConfigView } from './backup-schedule.js';
import { systemClock, type Clock } from './clock.js';
import { ReportMailer, type SourceNotice } from './notify.js';
import type { PolicySettings } from './policy.js';
import { ScheduleStateStore, type CheckResultSummary, type FolderScheduleState } from './state.js';

/**
 * Whether a source folder's staleness alert goes out or is over: a pure
 * function of the settings, the folder's state, the devices it is shared
 * with and now. Returns the notice and edits `state` (the alert's record).
 */
export function decideSourceStaleness(
  settings: PolicySettings,
  folderId: string,
  state: FolderScheduleState,
  shareWith: readonly string[],
  nameOf: (deviceId: string) => string,
  now: number,
): SourceNotice | undefined {
  const told = state.backups ?? {};
  const reported = shareWith.filter((id) => Object.hasOwn(told, id));
  if (reported.length === 0) return undefined;
  let latest: { id: string; result: CheckResultSummary } | undefined;
  for (const id of reported) {
    const v = told[id]!.lastVerified;
    if (v !== undefined && (latest === undefined || Date.parse(v.at) > Date.parse(latest.result.at))) latest = { id, result: v };
  }
  const firstTold = Math.min(...reported.map((id) => Date.parse(told[id]!.firstToldAt)));
  const since = latest?.result.at ?? new Date(firstTold).toISOString();
  if (state.staleAlertAt !== undefined) {
    const alertSince = state.staleSince ?? since;
    if (latest === undefined || Date.parse(latest.result.at) <= Date.parse(alertSince)) return undefined;
    delete state.staleAlertAt;
    delete state.staleSince;
    if (settings.email === 'never' || latest.result.status === 'error') return undefined;
    return {
      kind: 'source-recovered',
      folderId,
      since: alertSince,
      by: nameOf(latest.id),
      at: latest.result.at,
      status: latest.result.status,
      summary: latest.result.summary,
    };
  }
  const overdue = settings.staleAfterMs > 0 && now - Date.parse(since) > settings.staleAfterMs;
  if (!overdue || settings.email === 'never') return undefined;
  state.staleAlertAt = new Date(now).toISOString();
  state.staleSince = since;
  return {
    kind: 'source-stale',
    folderId,
    since,
    backups: reported.map((id) => ({
      name: nameOf(id),
      lastVerifiedAt: told[id]!.lastVerified?.at ?? null,
      summary: told[id]!.lastVerified?.summary ?? null,
    })),
  };
}

export interface SourceWatchOptions {
  config: () => ScheduleConfigView;
  dataDir: string;
  clock?: Clock;
  /** How often the folders are looked at (default 10 minutes); a verdict kept also asks for a look (check()). */
  tickMs?: number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface SourceWatch {
  /** Looks at every source folder now (one look at a time); resolves when its mails are sent or queued. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export function startSourceWatch(options: SourceWatchOptions): SourceWatch {
  const log = options.logger ?? createLogger('schedule');
  const clock = options.clock ?? systemClock;
  const store = new ScheduleStateStore(scheduleStateFile(options.dataDir));
  const outbox = new Outbox(outboxDir(options.dataDir), () => clock.now());
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const look = async (): Promise<void> => {
    const config = options.config();
    const sources = config.folders.filter((f) => f.role === 'source');
    if (sources.length === 0) return;
    const settings = scheduleSettingsOf(config);
    const names = new Map((config.trusted ?? []).map((t) => [t.deviceId, t.name ?? shortDeviceId(t.deviceId)]));
    const nameOf = (id: string): string => names.get(id) ?? shortDeviceId(id);
    const now = clock.now();
    // A look that changes nothing writes nothing: decided first on a copy of what is on disk.
    const peek = await store.load();
    const changes = sources.some((folder) => {
      const fs = peek.folders[folder.id];
      if (fs === undefined) return false;
      const before = JSON.stringify(fs);
      return decideSourceStaleness(settings, folder.id, fs, folder.shareWith, nameOf, now) !== undefined || JSON.stringify(fs) !== before;
    });
    if (!changes) return;
    // Decided again and recorded under the state's lock: a verdict written meanwhile is not lost, an alert not sent twice.
    const notices = await store.update((state) => {
      const out: SourceNotice[] = [];
      for (const folder of sources) {
        const fs = state.folders[folder.id];
        if (fs === undefined) continue;
        const notice = decideSourceStaleness(settings, folder.id, fs, folder.shareWith, nameOf, now);
        if (notice !== undefined) out.push(notice);
      }
      return out;
    });
    if (notices.length === 0) return;
    const smtp = smtpSettingsOf(config);
    for (const notice of notices) {
      log.info(
        notice.kind === 'source-stale'
          ? `no backup verified "${notice.folderId}" since ${notice.since}`
          : `"${notice.folderId}" verified again by ${printableText(notice.by)}`,
      );
      if (smtp === undefined) continue;
      const mailer = new ReportMailer({
        settings: smtp,
        outbox,
        agentName: config.name,
        now: () => clock.now(),
        ...(settings.timezone !== undefined ? { timeZone: settings.timezone } : {}),
        ...(options.env !== undefined ? { env: options.env } : {}),
      });
      try {
        const outcome = await mailer.sendSourceNotice(notice);
        if (outcome.status === 'queued')
          log.warn(`the ${notice.kind} e-mail for ${notice.folderId} waits in the outbox: ${outcome.error.message}`);
      } catch (err) {
        log.error(`could not queue the ${notice.kind} e-mail for ${notice.folderId}:`, err);
      }
    }
  };

  const check = (): Promise<void> => {
    running = running.then(
      () => (stopped ? undefined : look()),
      () => (stopped ? undefined : look()),
    );
    return running.catch((err: unknown) => log.warn("could not look at the source folders' backups:", err as Error));
  };
  let cancel: (() => void) | undefined;
  const schedule = (): void => {
    cancel = clock.setTimer(options.tickMs ?? 600_000, () => {
      void check().finally(() => {
        if (!stopped) schedule();
      });
    });
  };
  schedule();
  void check();
  return {
    check,
    async stop() {
      stopped = true;
      cancel?.();
      await running.catch(() => undefined);
    },
  };
}
