/**
 * The API's answers (docs/api.md, version 1), built from what the agent
 * hands the page (WebSource): the status as `synker status` collects it
 * (src/schedule/status.ts), this device, and the stores of past checks.
 * Only shapes here; the HTTP side is server.ts.
 */
import type { FolderStatus, StatusReport, Verdict } from '../schedule/status.js';
import type { CheckResultSummary } from '../schedule/state.js';
import type { LastReport } from '../schedule/last-report.js';
import type { HistoryRecord } from '../schedule/history.js';
import { SynkerError } from '../base/errors.js';

export const API_VERSION = 1;

export interface DeviceRef {
  id: string;
  name: string;
}

export interface BackupView {
  device: DeviceRef;
  lastVerified: (CheckResultSummary & { bytesMissing?: number }) | null;
  lastAttempt: CheckResultSummary | null;
  lastCompleteAt: string | null;
  notCompleteSince: string | null;
  stale: boolean;
  verdict: Verdict;
}

/** Which of the page's two actions the agent can do for a folder now: the page offers only those. */
export interface FolderActions {
  /** "Check now": a backup folder, and the agent runs its schedule (not --no-schedule). */
  check: boolean;
  /** "Send the report again": e-mail is set up, and a last report of this folder is kept. */
  report: boolean;
}

export type FolderView = FolderStatus & { backups: BackupView[]; actions: FolderActions };

/** The folder's last report as last-report.ts keeps it (its file format's version left out). */
export type LastReportView = Omit<LastReport, 'version'>;

/** One check of the history as history.ts keeps it. */
export type HistoryCheckView = HistoryRecord;

/** An action the agent refused (the HTTP status comes with it). */
export class WebActionError extends SynkerError {
  constructor(
    readonly status: 400 | 404 | 409,
    code: string,
    message: string,
    hint?: string,
  ) {
    super(code, message, hint === undefined ? {} : { hint });
  }
}

/** What the agent hands its page: data to read, and the two safe actions. */
export interface WebSource {
  device(): DeviceRef;
  status(): Promise<StatusReport>;
  /** The last report of a folder, as stored (null: none kept). */
  lastReport(folderId: string): Promise<LastReportView | null>;
  /** The checks of a folder in the last `days` days, oldest first. */
  history(folderId: string, days: number, now: number): Promise<HistoryCheckView[]>;
  /** Starts the folder's check as the schedule runs it; throws WebActionError when it cannot. */
  checkNow(folderId: string): void;
  /** Queues the folder's last report for e-mail again; throws WebActionError when it cannot. */
  resendReport(folderId: string): Promise<void>;
  /** Whether checkNow and resendReport can work for the folder now (what they would refuse on their own). */
  actions(folder: FolderStatus): Promise<FolderActions>;
}

/** A folder as the API shows it: what `synker status` says, and what its backups told a source (never invented). */
export function folderView(f: FolderStatus, actions: FolderActions): FolderView {
  const told = (f as FolderStatus & { backups?: BackupView[] }).backups;
  return { ...f, backups: f.role === 'source' && told !== undefined ? told : [], actions };
}

async function viewOf(source: WebSource, f: FolderStatus): Promise<FolderView> {
  return folderView(f, await source.actions(f));
}

export async function statusBody(source: WebSource, now: number) {
  const status = await source.status();
  return {
    api: API_VERSION,
    generatedAt: new Date(now).toISOString(),
    device: source.device(),
    folders: await Promise.all(status.folders.map((f) => viewOf(source, f))),
    outbox: status.outbox,
    schedule: status.schedule,
  };
}

export async function folderBody(source: WebSource, folderId: string, now: number) {
  const status = await source.status();
  const folder = status.folders.find((f) => f.id === folderId);
  if (folder === undefined) throw noFolder(folderId);
  return {
    api: API_VERSION,
    generatedAt: new Date(now).toISOString(),
    folder: await viewOf(source, folder),
    lastReport: await source.lastReport(folderId),
  };
}

/** The history keeps 90 days (history.ts); asking for more is no error, it gives what is kept. */
export const MAX_HISTORY_DAYS = 366;

export async function historyBody(source: WebSource, folderId: string, daysText: string | null, now: number) {
  const days = daysText === null ? 90 : /^\d{1,3}$/.test(daysText) ? Number(daysText) : Number.NaN;
  if (!(days >= 1 && days <= MAX_HISTORY_DAYS))
    throw new WebActionError(400, 'E_WEB_BAD_REQUEST', `days must be a whole number from 1 to ${MAX_HISTORY_DAYS}`);
  const status = await source.status();
  if (!status.folders.some((f) => f.id === folderId)) throw noFolder(folderId);
  return { api: API_VERSION, folder: folderId, days, checks: await source.history(folderId, days, now) };
}

export function noFolder(folderId: string): WebActionError {
  return new WebActionError(404, 'E_WEB_NO_FOLDER', `no folder "${folderId}" in this agent's config`, 'synker folder list names them');
}
