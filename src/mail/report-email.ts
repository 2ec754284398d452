/**
 * The mail of a check report (report/model.ts): the subject states the result
 * at a glance, the body (report-body.ts) gives the details; a report that
 * carries a sync is mailed as the sync's mail (sync-email.ts).
 */
import type { MailContent } from './compose.js';
import type { CheckReport } from '../report/model.js';
import type { EmailContext } from './context.js';
import { bannerFor, reportMessage } from './report-body.js';
import { renderSyncEmail } from './sync-email.js';
import { reportSubject } from './subject.js';

export function renderReportEmail(report: CheckReport, ctx: EmailContext): MailContent {
  if (report.sync !== null && report.error === null) return renderSyncEmail(report, report.sync, ctx);
  const subject = reportSubject(report, ctx);
  return reportMessage(report, ctx, subject, bannerFor(report));
}
