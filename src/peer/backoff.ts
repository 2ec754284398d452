/**
 * Jittered exponential backoff for retrying unreachable peers: the delay
 * doubles from `initial` up to `max`, and each wait is a random point in
 * [delay/2, delay] ("equal jitter") so agents that lost the same peer do not
 * retry in lockstep.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Random source in [0, 1); tests make it deterministic. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1_000;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1)) {
      throw new TypeError('backoff needs 0 < initialMs <= maxMs and factor >= 1');
    }
  }

  /** The next delay in milliseconds. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** After a success: start again from the initial delay. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Sleep `ms`, or reject early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `attempt` until it succeeds, waiting a backoff delay after each failure
 * that `shouldRetry` accepts (default: all). `onRetry` hears about each wait.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  options: BackoffOptions & {
    signal?: AbortSignal;
    shouldRetry?: (err: unknown) => boolean;
    onRetry?: (err: unknown, delayMs: number, attempt: number) => void;
    maxAttempts?: number;
  } = {},
): Promise<T> {
  const backoff = new Backoff(options);
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (options.shouldRetry !== undefined && !options.shouldRetry(err)) throw err;
      if (options.maxAttempts !== undefined && backoff.attempts + 1 >= options.maxAttempts) throw err;
      const delay = backoff.next();
      options.onRetry?.(err, delay, backoff.attempts);
      await sleep(delay, options.signal);
    }
  }
}
