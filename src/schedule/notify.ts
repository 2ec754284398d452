/**
 * The mail side of the agent and of `synker check --email`: turns a check
 * report or a schedule notice into a message, sends it through the outbox
 * (so nothing is lost), and retries the outbox. Message keys are derived from
 * what a message is about, so the same report or alert is never sent twice.
 */
import type { FolderConfig, TrustedDevice } from '../config/types.js';
import type { Notice } from './policy.js';
import type { CheckRun } from './scheduler.js';
import { sendThroughOutbox, flushOutbox, type SendOutcome } from '../mail/deliver.js';
import type { EmailContext } from '../mail/context.js';
import {
  renderRecoveredEmail,
  renderSourceRecoveredEmail,
  renderSourceStaleEmail,
  renderStaleEmail,
  type SourceStaleNotice,
} from '../mail/notices.js';
import { renderReportEmail } from '../mail/report-email.js';
import type { Mailer } from '../mail/mailer.js';
import type { CheckReport } from '../report/model.js';
import type { FlushResult, Outbox } from '../mail/outbox.js';
import type { SmtpSettings } from '../config/smtp.js';
import { formatEvery } from '../base/units.js';

export interface ReportMailerOptions {
  settings: SmtpSettings;
  outbox: Outbox;
  /** This agent's name (the backup machine), used in subjects. */
  agentName: string;
  /** The source's name for a folder, from the config: named in subjects when the source was not reached. */
  sourceNameOf?: (folderId: string) => string | undefined;
  timeZone?: string;
  /** How often a failed check is retried, for the wording of the alert (ms). */
  retryAfterMs?: number;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  /** For tests: send through this instead of a transport built from `settings`. */
  mailer?: Mailer;
}

/** The name of the one trusted device a folder is shared with (its source, on a backup machine). */
export function sourceNameIn(config: {
  folders: readonly FolderConfig[];
  trusted?: readonly TrustedDevice[] | undefined;
}): (folderId: string) => string | undefined {
  return (folderId) => {
    const shared = config.folders.find((f) => f.id === folderId)?.shareWith ?? [];
    return shared.length === 1 ? config.trusted?.find((t) => t.deviceId === shared[0])?.name : undefined;
  };
}

export class ReportMailer {
  constructor(private readonly options: ReportMailerOptions) {}

  private context(): EmailContext {
    const ctx: EmailContext = { now: new Date(this.now()), agentName: this.options.agentName };
    if (this.options.timeZone !== undefined) ctx.timeZone = this.options.timeZone;
    if (this.options.sourceNameOf !== undefined) ctx.sourceNameOf = this.options.sourceNameOf;
    return ctx;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private setup() {
    const { settings, outbox, env, mailer } = this.options;
    return { settings, outbox, ...(env !== undefined ? { env } : {}), ...(mailer !== undefined ? { mailer } : {}) };
  }

  /** Sends (or queues) the report of one check. */
  sendReport(report: CheckReport): Promise<SendOutcome> {
    return sendThroughOutbox(
      this.setup(),
      renderReportEmail(report, this.context()),
      `report:${report.folderId}:${report.startedAt}`,
      new Date(this.now()),
    );
  }

  /** Sends (or queues) what the schedule decided to tell the user. */
  async sendNotice(notice: Notice, run: CheckRun<CheckReport>): Promise<SendOutcome> {
    const ctx = this.context();
    const date = new Date(this.now());
    switch (notice.kind) {
      case 'report':
        if (!run.report) throw new Error(`a report notice for ${notice.folderId} came without a report`);
        return this.sendReport(run.report);
      case 'recovered':
        if (!run.report) throw new Error(`a recovery notice for ${notice.folderId} came without a report`);
        return sendThroughOutbox(
          this.setup(),
          renderRecoveredEmail(run.report, notice.since, ctx),
          `recovered:${notice.folderId}:${notice.since}`,
          date,
        );
      case 'stale': {
        const content = renderStaleEmail(
          {
            folderId: notice.folderId,
            since: notice.since,
            lastAttemptAt: notice.lastResult.at,
            // The real gap to the next attempt (the schedule may come sooner than retryAfter), as the scheduler worked it out.
            retryEvery: formatEvery(notice.retryInMs ?? this.options.retryAfterMs ?? 3_600_000),
            ...(notice.lastResult.error !== undefined ? { error: notice.lastResult.error } : {}),
          },
          ctx,
        );
        return sendThroughOutbox(this.setup(), content, `stale:${notice.folderId}:${notice.since}`, date);
      }
    }
  }

  /**
   * Sends (or queues) what the source's watch decided (source-watch.ts): no
   * backup verified a folder within staleAfter, or one did again. Keyed by
   * the folder and the "since", so an episode mails each once.
   */
  sendSourceNotice(notice: SourceNotice): Promise<SendOutcome> {
    const ctx = this.context();
    const date = new Date(this.now());
    if (notice.kind === 'source-stale')
      return sendThroughOutbox(this.setup(), renderSourceStaleEmail(notice, ctx), `source-stale:${notice.folderId}:${notice.since}`, date);
    return sendThroughOutbox(
      this.setup(),
      renderSourceRecoveredEmail(notice, ctx),
      `source-recovered:${notice.folderId}:${notice.since}`,
      date,
    );
  }

  /** Retries whatever waits in the outbox. */
  retry(): Promise<FlushResult> {
    return flushOutbox(this.setup());
  }
}

/** What a source's watch tells the user (source-watch.ts). */
export type SourceNotice =
  | ({ kind: 'source-stale' } & SourceStaleNotice)
  | {
      kind: 'source-recovered';
      folderId: string;
      since: string;
      by: string;
      at: string;
      status: 'complete' | 'differences';
      summary: string;
    };
