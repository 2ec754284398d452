/**
 * The doctor's terminal output: one line per finding, its fix under it, a
 * summary last. A finding quotes paths and names from the config, the disk
 * and the network, escaped like names: each stays on its one line.
 */
import { printablePath } from '../base/printable.js';
import { plural } from '../base/units.js';
import type { DoctorReport, FindingStatus } from './finding.js';

const LABEL: Record<FindingStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };
const COLOUR: Record<FindingStatus, string> = { ok: '32', warn: '33', fail: '31', skip: '2' };

export function renderDoctorReport(report: DoctorReport, colour: boolean): string {
  const width = Math.max(...report.findings.map((f) => f.check.length), 5);
  const paint = (status: FindingStatus, text: string): string => (colour ? `\x1b[${COLOUR[status]}m${text}\x1b[0m` : text);
  const lines = report.findings.flatMap((f) => [
    `${paint(f.status, LABEL[f.status])}  ${f.check.padEnd(width)}  ${printablePath(f.message)}`,
    ...(f.fix ? [`${' '.repeat(6 + width + 2)}fix: ${printablePath(f.fix)}`] : []),
  ]);
  const summary =
    report.problems === 0 && report.warnings === 0
      ? 'No problems found.'
      : `${plural(report.problems, 'problem')}, ${plural(report.warnings, 'warning')}.`;
  return `${lines.join('\n')}\n\n${summary}\n`;
}
