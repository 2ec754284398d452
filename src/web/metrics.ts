/**
 * `GET /metrics`: the status in the Prometheus text format (0.0.4) for people
 * who already watch their machines. One series per backup folder (device:
 * this machine) and, on a source folder, one per backup machine that told it
 * something. Label values are escaped as the format says (\\, \", \n).
 */
import type { CheckResultSummary } from '../schedule/state.js';
import type { FolderView } from './api.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

interface Series {
  labels: string;
  verified: (CheckResultSummary & { bytesMissing?: number }) | null;
  /** The verdict the terminal and the page say (a failed run after the last verification: not complete). */
  complete: boolean;
}

const FAMILIES = [
  ['synker_folder_last_verified_timestamp_seconds', 'Unix time of the last check that compared the backup with its source.'],
  [
    'synker_folder_complete',
    "1 when the folder's verdict is complete (as synker status says: a failed run after the last verification is not), else 0.",
  ],
  ['synker_folder_differences', 'Differences the last verification found.'],
  [
    'synker_folder_bytes_missing',
    'Bytes to fix the last verification found: every failing difference (missing, changed, moved), not only missing files.',
  ],
] as const;

export function renderMetrics(folders: readonly FolderView[], deviceName: string, outboxWaiting: number): string {
  const series: Series[] = [];
  for (const f of folders) {
    const labels = (device: string): string =>
      `folder="${escapeLabel(f.id)}",role="${escapeLabel(f.role)}",device="${escapeLabel(device)}"`;
    if (f.role === 'backup') series.push({ labels: labels(deviceName), verified: f.lastVerified, complete: f.verdict === 'complete' });
    else
      for (const b of f.backups)
        series.push({ labels: labels(b.device.name), verified: b.lastVerified, complete: b.verdict === 'complete' });
  }
  const lines: string[] = [];
  for (const [name, help] of FAMILIES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const { labels, verified, complete } of series) {
      const value = name === 'synker_folder_complete' ? (complete ? 1 : 0) : sampleOf(name, verified);
      if (value !== undefined) lines.push(`${name}{${labels}} ${value}`);
    }
  }
  lines.push('# HELP synker_outbox_messages E-mails waiting in the outbox.', '# TYPE synker_outbox_messages gauge');
  lines.push(`synker_outbox_messages ${outboxWaiting}`);
  return `${lines.join('\n')}\n`;
}

function sampleOf(name: (typeof FAMILIES)[number][0], v: (CheckResultSummary & { bytesMissing?: number }) | null): number | undefined {
  switch (name) {
    case 'synker_folder_last_verified_timestamp_seconds':
      return v === null ? undefined : Date.parse(v.at) / 1000;
    case 'synker_folder_complete':
      return undefined; // from the verdict (renderMetrics)
    case 'synker_folder_differences':
      return v === null ? undefined : (v.differences ?? (v.status === 'complete' ? 0 : undefined));
    case 'synker_folder_bytes_missing':
      return v?.bytesMissing;
  }
}
