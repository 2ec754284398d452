/**
 * Time as the scheduler sees it. Everything time-based takes a Clock so tests
 * drive days of schedule in milliseconds instead of waiting.
 */
export interface Clock {
  /** Wall-clock time in ms since the epoch (jumps forward after a sleep). */
  now(): number;
  /** Calls `fn` after about `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    // The agent's sockets keep it alive; a pending check timer alone must not.
    timer.unref();
    return () => clearTimeout(timer);
  },
};
