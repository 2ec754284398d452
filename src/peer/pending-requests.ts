/**
 * Requests of ours waiting for one answer each, by request number: each has a
 * deadline and its own error when that passes; its answer resolves it, an
 * error from the peer rejects it, and the connection's close rejects them all
 * (and every later request at once). An answer or error for a request no
 * longer waiting (given up on, or already answered) is ignored. Each kind of
 * request extends it with its own message and words (verdict-telling.ts,
 * verified-asking.ts).
 */
import type { SynkerError } from '../base/errors.js';
import { PeerError } from './errors.js';

type Waiting<T> = { resolve: (answer: T) => void; reject: (error: SynkerError) => void };

export class PendingRequests<T> {
  private readonly waiting = new Map<number, Waiting<T>>();
  private closedWith: SynkerError | undefined;

  constructor(
    private readonly nextReq: () => number,
    protected readonly deadlineMs: number,
  ) {}

  owns(req: number): boolean {
    return this.waiting.has(req);
  }

  /**
   * Sends a request (under a new number) and waits for its answer. Past the deadline it is given up
   * on with `stalled()`'s error, handed to `onStalled` after that (to end the connection, say).
   */
  async ask(send: (req: number) => void, stalled: () => SynkerError, onStalled?: (error: SynkerError) => void): Promise<T> {
    if (this.closedWith !== undefined) throw this.closedWith;
    const req = this.nextReq();
    const answer = new Promise<T>((resolve, reject) => this.waiting.set(req, { resolve, reject }));
    send(req);
    const timer = setTimeout(() => {
      const waiting = this.waiting.get(req);
      this.waiting.delete(req);
      if (waiting === undefined) return;
      const error = stalled();
      waiting.reject(error);
      onStalled?.(error);
    }, this.deadlineMs);
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
    }
  }

  onAnswer(req: number, answer: T): void {
    const waiting = this.waiting.get(req);
    this.waiting.delete(req);
    waiting?.resolve(answer);
  }

  /** The peer's `error` for a request of ours: a remote PeerError with its code, words and hint. */
  onError(req: number, code: string, message: string, hint: string | undefined): void {
    const waiting = this.waiting.get(req);
    this.waiting.delete(req);
    waiting?.reject(new PeerError(code, message, { remote: true, ...(hint === undefined ? {} : { hint }) }));
  }

  onClose(error: SynkerError): void {
    this.closedWith = error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
