/**
 * Everything the agent needs for its backup role, in one call: the check
 * schedule of every backup folder in the config, the e-mails it decides on,
 * and the periodic outbox retry. The agent starts it once and stops it on
 * shutdown; the folders, the SMTP settings and the schedule are read from
 * the live config at each use, so `synker folder add`, a fixed password or an
 * edited schedule apply without a restart.
 */
import type { FolderConfig, SynkerConfig, TrustedDevice } from '../config/types.js';
import { createLogger, type Logger } from '../base/log.js';
import type { CheckReport } from '../report/model.js';
import { ReportMailer, sourceNameIn } from './notify.js';
import { Outbox, type FlushResult } from '../mail/outbox.js';
import { printableText } from '../base/printable.js';
import { runCheckProcess } from './check-process.js';
import { systemClock, type Clock } from './clock.js';
import { outboxDir, scheduleStateFile } from '../dirs/data-files.js';
import { CheckScheduler, type CheckRun } from './scheduler.js';
import { scheduleSettingsOf, smtpSettingsOf } from '../config/settings.js';
import { ScheduleStateStore } from './state.js';
import { recordRun } from './record.js';
import { plural } from '../base/units.js';

/** The parts of the config the schedule reads (the `smtp` and `schedule` sections as written). */
export interface ScheduleConfigView {
  name: string;
  folders: readonly FolderConfig[];
  /** Names the source in a mail about a check that never reached it. */
  trusted?: readonly TrustedDevice[];
  /** As written in the config; read through smtpSettingsOf / scheduleSettingsOf (config/settings.ts). */
  smtp?: SynkerConfig['smtp'];
  schedule?: SynkerConfig['schedule'];
}

export interface BackupScheduleOptions {
  config: () => ScheduleConfigView;
  dataDir: string;
  /** `--config FILE` the agent was started with, passed on to the check processes. */
  configPath?: string;
  /**
   * While the config file on disk is broken (an edit the agent ignores), a
   * file holding the config still in force, for the check processes; they
   * would otherwise read the broken file and fail. Undefined: the file is fine.
   */
  configInForce?: () => Promise<string | undefined>;
  /** Extra flags for each `synker check` / `synker sync` (the agent passes its discovery settings on). */
  checkArgs?: string[];
  clock?: Clock;
  /** How a check runs (default: `synker check FOLDER --json`, or `synker sync FOLDER --json` for `sync: true` folders, at low priority). */
  runCheck?: (folderId: string) => Promise<CheckRun<CheckReport>>;
  env?: NodeJS.ProcessEnv;
  tickMs?: number;
  /** Default: the `schedule` logger on stderr. */
  logger?: Logger;
  /** Told when an e-mail was queued or sent, or a retry left the outbox as it was (the status page reads it again). */
  onOutboxChange?: () => void;
}

export interface BackupSchedule {
  scheduler: CheckScheduler<CheckReport>;
  stop(): Promise<void>;
}

export function startBackupSchedule(options: BackupScheduleOptions): BackupSchedule {
  const log = options.logger ?? createLogger('schedule');
  const clock = options.clock ?? systemClock;
  let settings = scheduleSettingsOf(options.config());
  let scheduleText = JSON.stringify(options.config().schedule ?? null);
  /** An edited `schedule` section applies from the next pass (the config store only ever holds a valid one). */
  const followConfig = (): void => {
    const now = JSON.stringify(options.config().schedule ?? null);
    if (now === scheduleText) return;
    scheduleText = now;
    settings = scheduleSettingsOf(options.config());
    scheduler.updateSettings(settings);
    log.info(`schedule changed: checks "${settings.check}"${settings.timezone ? ` (${settings.timezone})` : ''}, e-mail ${settings.email}`);
  };
  const outbox = new Outbox(outboxDir(options.dataDir), () => clock.now());
  let warnedNoSmtp = false;

  /** A mailer for the current config, or undefined (logged once) when e-mail is not set up. */
  const mailer = (): ReportMailer | undefined => {
    const config = options.config();
    const smtp = smtpSettingsOf(config);
    if (smtp === undefined) {
      if (!warnedNoSmtp && settings.email !== 'never')
        log.warn('e-mail is not set up (no "smtp" section in the config): check results are recorded but not mailed');
      warnedNoSmtp = true;
      return undefined;
    }
    return new ReportMailer({
      settings: smtp,
      outbox,
      agentName: config.name,
      sourceNameOf: sourceNameIn(config),
      retryAfterMs: settings.retryAfterMs,
      now: () => clock.now(),
      ...(settings.timezone !== undefined ? { timeZone: settings.timezone } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
  };

  /** A folder whose config says `sync: true` is synced after its check. */
  const syncs = (folderId: string): boolean => options.config().folders.find((f) => f.id === folderId)?.sync === true;

  const scheduler = new CheckScheduler<CheckReport>({
    settings,
    clock,
    store: new ScheduleStateStore(scheduleStateFile(options.dataDir)),
    folders: () => {
      // Asked at the start of every pass: the moment to pick up an edited schedule too.
      followConfig();
      return options
        .config()
        .folders.filter((f) => f.role === 'backup')
        .map((f) => f.id);
    },
    // The last report and the history of every scheduled run, failed ones too (the status page reads them).
    record: (folderId, run) =>
      recordRun(options.dataDir, {
        folderId,
        summary: run.summary,
        ...(run.report !== undefined ? { report: run.report } : {}),
        by: syncs(folderId) ? 'scheduled-sync' : 'scheduled-check',
      }),
    runCheck:
      options.runCheck ??
      (async (folderId) => {
        const configPath = (await options.configInForce?.()) ?? options.configPath;
        return runCheckProcess(folderId, {
          // A folder whose config says `sync: true` is synced after its check (`synker sync`), the report saying what was fixed.
          command: syncs(folderId) ? 'sync' : 'check',
          ...(configPath !== undefined ? { configPath } : {}),
          ...(options.env !== undefined ? { env: options.env } : {}),
          ...(options.checkArgs !== undefined ? { extraArgs: options.checkArgs } : {}),
        });
      }),
    notify: async (notice, run) => {
      const m = mailer();
      if (!m) return;
      const outcome = await m.sendNotice(notice, run).finally(() => options.onOutboxChange?.());
      if (outcome.status !== 'already-sent' && outcome.flush !== undefined) logDelivered(log, outcome.flush);
      if (outcome.status === 'queued')
        log.warn(
          `the ${notice.kind} e-mail for ${notice.folderId} waits in the outbox: ${outcome.error.message}${outcome.error.hint ? ` (${outcome.error.hint})` : ''}`,
        );
    },
    retryOutbox: async () => {
      if ((await outbox.size()) === 0) return;
      const m = mailer();
      if (!m) return;
      const result = await m.retry().finally(() => options.onOutboxChange?.());
      logDelivered(log, result);
      if (result.failed.length > 0)
        log.warn(`${plural(result.remaining, 'e-mail')} still wait in the outbox: ${result.failed[0]!.error.message}`);
    },
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
  });
  scheduler.start();
  log.info(`checks scheduled "${settings.check}"${settings.timezone ? ` (${settings.timezone})` : ''}, e-mail ${settings.email}`);
  return { scheduler, stop: () => scheduler.stop() };
}

/** The agent's log says each e-mail the server accepted (the outbox itself only says so at debug level). */
function logDelivered(log: Logger, flush: FlushResult): void {
  for (const { entry, result } of flush.sent) {
    log.info(
      `delivered "${printableText(entry.subject)}" to ${printableText(entry.envelope.to.join(', '))}: ${printableText(result.response)}`,
    );
  }
}
