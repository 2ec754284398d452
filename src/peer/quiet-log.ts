/**
 * Log repeated events (refused connections, pairing attempts) at most once
 * per interval and key, with a count of the ones left out, so a flood on the
 * LAN cannot flood the log.
 */
import type { Logger } from '../log.js';

export class QuietLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly maxKeys = 1000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen !== undefined && seen.suppressed > 0 ? ` (and ${seen.suppressed} more like it in the last ${Math.round((now - seen.at) / 1000)} s)` : '';
    if (this.last.size >= this.maxKeys && seen === undefined) this.last.delete(this.last.keys().next().value as string);
    this.last.delete(key);
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn(message + more);
  }
}
