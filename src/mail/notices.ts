/**
 * The agent's notices: the backup was not verified since..., it was verified
 * again (on a backup machine; and on a source, where no backup verified the
 * originals since..., and one did again), and the test mail of `synker
 * test-email`.
 */
import { SYNKER_VERSION } from '../base/version.js';
import type { MailContent } from './compose.js';
import type { CheckReport } from '../report/model.js';
import { plural } from '../base/units.js';
import { backupName, folderPhrase, machineName, oneLine, type EmailContext } from './context.js';
import { printablePath } from '../base/printable.js';
import { ago, formatDate, shortDate } from './dates.js';
import { COLORS, dataTable, escapeHtml, page, paragraph } from './html.js';
import { reportMessage } from './report-body.js';
import { renderSyncEmail, syncPhrase } from './sync-email.js';
import { differencePhrase } from './subject.js';

export interface StaleNotice {
  folderId: string;
  /** Last time the backup was verified (or the agent started watching it). */
  since: string;
  /** When the agent last tried. */
  lastAttemptAt: string;
  error?: { code: string; message: string; hint?: string };
  /** How often the agent tries again. */
  retryEvery: string;
}

export function renderStaleEmail(notice: StaleNotice, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const subject = `${folderPhrase(notice.folderId, agent)} NOT verified since ${shortDate(notice.since, ctx)}`;
  const lines = [
    `synker on ${agent} has not been able to verify the backup of ${notice.folderId} for ${ago(notice.since, ctx.now)}, since ${formatDate(notice.since, ctx)}.`,
    'Until a check succeeds, nobody knows whether the backup still matches the source.',
    `Last attempt: ${formatDate(notice.lastAttemptAt, ctx)}${notice.error ? `: ${notice.error.message}` : ''}`,
  ];
  if (notice.error?.hint) lines.push(`What to do: ${notice.error.hint}`);
  lines.push(`synker keeps trying every ${notice.retryEvery} and will write again once the backup is verified.`);
  const footer = `synker ${SYNKER_VERSION} on ${agent}`;
  const text = `${[...lines, '', '--', footer].join('\n')}\n`;
  const html = page(subject, { color: COLORS.warn, text: `Backup of ${notice.folderId} NOT verified` }, [
    ...lines.map((l) => paragraph(escapeHtml(l))),
    `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(footer)}</div>`,
  ]);
  return { subject, text, html };
}

/** The first successful check after a "not verified" alert: the report, introduced by the good news. */
export function renderRecoveredEmail(report: CheckReport, since: string, ctx: EmailContext): MailContent {
  const intro = [
    `The backup of ${report.folderId} could be verified again, after ${ago(since, ctx.now)} without a successful check (since ${formatDate(since, ctx)}).`,
  ];
  if (report.sync !== null)
    return renderSyncEmail(
      report,
      report.sync,
      ctx,
      intro,
      `${folderPhrase(report.folderId, backupName(report, ctx))} verified again, ${syncPhrase(report, report.sync)}`,
    );
  const state = report.complete ? 'complete' : differencePhrase(report);
  const subject = `${folderPhrase(report.folderId, backupName(report, ctx))} verified again: ${state}`;
  const banner = report.complete
    ? { color: COLORS.ok, text: 'Backup verified again: complete' }
    : { color: COLORS.bad, text: `Backup verified again: ${plural(report.summary.failing, 'difference')}` };
  return reportMessage(report, ctx, subject, banner, intro);
}

export interface TestEmailFacts {
  host: string;
  port: number;
  security: string;
  user?: string;
  from: string;
  to: string[];
}

export function renderTestEmail(facts: TestEmailFacts, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const subject = `synker test e-mail from ${agent}`;
  const rows: Array<[string, string]> = [
    ['Server', `${facts.host}:${facts.port} (${facts.security})`],
    ['Login', facts.user ?? 'none'],
    ['From', facts.from],
    ['To', facts.to.join(', ')],
    ['Sent', formatDate(ctx.now, ctx)],
  ];
  const lead = `If you can read this, synker on ${agent} can send you its backup reports.`;
  const text = `${[lead, '', ...rows.map(([k, v]) => `${k.padEnd(7)} ${v}`), '', '--', `synker ${SYNKER_VERSION}`].join('\n')}\n`;
  const html = page(subject, { color: COLORS.ok, text: 'synker can reach you' }, [
    paragraph(escapeHtml(lead)),
    dataTable(
      ['Setting', 'Value'],
      rows.map(([k, v]) => [escapeHtml(k), escapeHtml(v)]),
      ['left', 'left'],
    ),
    `<div style="font-size:12px;color:${COLORS.muted};">synker ${escapeHtml(SYNKER_VERSION)}</div>`,
  ]);
  return { subject, text, html };
}

/** One backup machine of a source folder, as the source's notices name it. */
export interface SourceBackupFacts {
  /** As this machine trusts it (escaped here). */
  name: string;
  /** Its last verification of the folder (ISO), or null: none yet. */
  lastVerifiedAt: string | null;
  /** Its words for it ("complete", "12 files missing (340 MiB)"); as the backup told them. */
  summary: string | null;
}

export interface SourceStaleNotice {
  folderId: string;
  /** The latest verification by any backup (or when the first backup reported): the "since". */
  since: string;
  backups: SourceBackupFacts[];
}

/** On the source: no backup machine has verified the folder within staleAfter. */
export function renderSourceStaleEmail(notice: SourceStaleNotice, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const subject = `${notice.folderId} on ${agent}: NO backup verified since ${shortDate(notice.since, ctx)}`;
  const lines = [
    `No backup machine has verified ${notice.folderId} on ${agent} for ${ago(notice.since, ctx.now)}, since ${formatDate(notice.since, ctx)}.`,
    'Until one does, nobody knows whether a backup still matches these originals.',
    ...notice.backups.map(
      (b) =>
        `${machineName(b.name)}: ${b.lastVerifiedAt === null ? 'never verified it' : `last verified it ${formatDate(b.lastVerifiedAt, ctx)} (${ago(b.lastVerifiedAt, ctx.now)} ago)${b.summary === null ? '' : `: ${oneLine(printablePath(b.summary), 200)}`}`}`,
    ),
    'What to do: check that the backup machines are on and their synker agents run (synker status there says why their checks fail).',
    'synker writes again once a backup has verified it.',
  ];
  const footer = `synker ${SYNKER_VERSION} on ${agent}`;
  const text = `${[...lines, '', '--', footer].join('\n')}\n`;
  const html = page(subject, { color: COLORS.warn, text: `${notice.folderId}: no backup verified it` }, [
    ...lines.map((l) => paragraph(escapeHtml(l))),
    `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(footer)}</div>`,
  ]);
  return { subject, text, html };
}

/** On the source: a backup verified the folder again after the alert. */
export function renderSourceRecoveredEmail(
  notice: { folderId: string; since: string; by: string; at: string; status: 'complete' | 'differences'; summary: string },
  ctx: EmailContext,
): MailContent {
  const agent = machineName(ctx.agentName);
  const by = machineName(notice.by);
  const words = notice.status === 'complete' ? 'complete' : oneLine(printablePath(notice.summary), 200);
  const subject = `${notice.folderId} on ${agent} verified again by ${by}: ${words}`;
  const lines = [
    `${by} verified ${notice.folderId} on ${agent} again ${formatDate(notice.at, ctx)}, after ${ago(notice.since, ctx.now)} without a verification by any backup (since ${formatDate(notice.since, ctx)}).`,
    `Its verdict: ${words}.`,
  ];
  const footer = `synker ${SYNKER_VERSION} on ${agent}`;
  const text = `${[...lines, '', '--', footer].join('\n')}\n`;
  const html = page(
    subject,
    notice.status === 'complete'
      ? { color: COLORS.ok, text: `${notice.folderId}: verified again, complete` }
      : { color: COLORS.bad, text: `${notice.folderId}: verified again, incomplete` },
    [...lines.map((l) => paragraph(escapeHtml(l))), `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(footer)}</div>`],
  );
  return { subject, text, html };
}
