/**
 * What every message is rendered with (EmailContext: now, time zone, this
 * agent's name) and how messages name machines and folders. Machine names
 * come from the config and from the peer: they are escaped like file names,
 * so a bidi override cannot turn a subject around.
 */
import type { CheckReport } from '../report/model.js';
import { printablePath } from '../base/printable.js';

export interface EmailContext {
  /** Now, for relative words ("4 days"); injected so tests are stable. */
  now: Date;
  /** IANA time zone for dates in the mail (default: this machine's). */
  timeZone?: string;
  /** This agent's name, when the report does not carry the backup's name. */
  agentName: string;
  /** The source's name from the config, for a report whose check never reached it. */
  sourceNameOf?: (folderId: string) => string | undefined;
}

export function folderPhrase(folderId: string, machine: string): string {
  return `Backup of ${folderId} on ${machine}`;
}

/** A machine name as a subject or body shows it: escaped like a file name (base/printable.ts). */
export function machineName(name: string): string {
  return printablePath(name);
}

export function backupName(report: CheckReport, ctx: EmailContext): string {
  return machineName(report.backup.name ?? ctx.agentName);
}

export function sourceName(report: CheckReport): string {
  return machineName(report.source.name ?? report.source.location ?? 'the source');
}

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
