/** Where the agent keeps its mail and schedule state, inside synker's data directory. */
import path from 'node:path';

export function outboxDir(dataDir: string): string {
  return path.join(dataDir, 'outbox');
}

export function scheduleStateFile(dataDir: string): string {
  return path.join(dataDir, 'schedule.json');
}
