/**
 * Log repeated events (refused connections, pairing attempts) at most once
 * per interval and key, then one line with the count of the ones left out
 * when the interval ends, so a flood on the LAN cannot flood the log and a
 * flood that stops is still counted.
 */
import type { Logger } from '../base/log.js';

/** The line for `count` events left out over `seconds`, e.g. "refused 57 more connections from 192.0.2.7". */
export type MoreLine = (count: number, seconds: number) => string;

interface Seen {
  at: number;
  suppressed: number;
  more: MoreLine;
  timer: NodeJS.Timeout | undefined;
}

export class QuietLog {
  private readonly last = new Map<string, Seen>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly maxKeys = 1000,
  ) {}

  /** `more` words the count of events left out; by default "N more in the last S s like: <message>". */
  warn(key: string, message: string, more?: MoreLine): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      seen.timer ??= unref(setTimeout(() => this.flush(key), seen.at + this.intervalMs - now));
      return;
    }
    if (seen !== undefined) this.forget(key);
    else if (this.last.size >= this.maxKeys) this.forget(this.last.keys().next().value as string);
    this.last.set(key, {
      at: now,
      suppressed: 0,
      more: more ?? ((n, s) => `${n} more in the last ${s} s like: ${message}`),
      timer: undefined,
    });
    this.log.warn(message);
  }

  /** Log every pending count now (the agent is stopping). */
  close(): void {
    for (const key of [...this.last.keys()]) this.forget(key);
  }

  /** The interval is over: log the count, and start a new interval for further events. */
  private flush(key: string): void {
    const seen = this.last.get(key);
    if (seen === undefined) return;
    seen.timer = undefined;
    if (seen.suppressed === 0) return;
    const now = Date.now();
    this.log.warn(seen.more(seen.suppressed, Math.max(1, Math.round((now - seen.at) / 1000))));
    seen.at = now;
    seen.suppressed = 0;
  }

  private forget(key: string): void {
    const seen = this.last.get(key);
    if (seen === undefined) return;
    clearTimeout(seen.timer);
    this.flush(key);
    this.last.delete(key);
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
