/**
 * The report for scripts: the report model as JSON, unchanged (schema in
 * docs/report-schema.md). One report per line when several folders are
 * checked (JSON Lines); a single folder gives a single JSON document.
 */
import type { CheckReport } from './model.js';

export function renderJson(report: CheckReport): string {
  return `${JSON.stringify(report)}\n`;
}

export function renderJsonLines(reports: readonly CheckReport[]): string {
  return reports.map(renderJson).join('');
}
