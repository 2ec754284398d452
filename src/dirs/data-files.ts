/** Where the agent keeps its mail and schedule state, inside synker's data directory. */
import path from 'node:path';

export function outboxDir(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

export function scheduleStateFile(dataDir: string): string {
  return path.join(dataDir, 'schedule.json');
}

/**
 * Where each folder's check history (`<name>.jsonl`) and last report (`<name>.last-report.json`, schedule/history.ts historyName) are kept
 * (schedule/history.ts, schedule/last-report.ts): one folder, so the agent watches one place for runs
 * another process recorded.
 */
export function historyDir(dataDir: string): string {
  return path.join(dataDir, 'history');
}
