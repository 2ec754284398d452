/** A clock the test moves by hand: days of schedule pass in milliseconds. */
import type { Clock } from '../../src/schedule/clock.js';

export class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void }> = [];
  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.current + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward and fires the timers that came due (like a machine waking up). */
  advance(ms: number): void {
    this.set(this.current + ms);
  }

  set(time: number | string): void {
    this.current = typeof time === 'string' ? Date.parse(time) : time;
    const due = this.timers.filter((t) => t.at <= this.current);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.fn();
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
