/**
 * The page's live updates: server-sent events to every open stream.
 * `check-ended` when a check or sync of a folder ends, `status` when the
 * outbox or the config changed. Bounded: at most MAX_STREAMS streams, and a
 * stream whose client does not read (more than MAX_BUFFERED bytes waiting)
 * is closed rather than held in memory; a comment every KEEP_ALIVE_MS keeps
 * proxies and browsers from closing an idle stream.
 */
import type { ServerResponse } from 'node:http';
import type { CheckStatus } from '../schedule/state.js';

export const MAX_STREAMS = 16;
export const MAX_BUFFERED = 256 * 1024;
export const KEEP_ALIVE_MS = 15_000;

export interface CheckEndedEvent {
  folder: string;
  at: string;
  status: CheckStatus;
}

export interface StatusChangedEvent {
  reason: 'outbox' | 'config';
}

export class WebEvents {
  private readonly streams = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout | undefined;

  get size(): number {
    return this.streams.size;
  }

  /** Takes `res` as a new stream; false when MAX_STREAMS are open. */
  open(res: ServerResponse, headers: Record<string, string>): boolean {
    if (this.streams.size >= MAX_STREAMS) return false;
    res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
    res.write(': synker events\n\n');
    this.streams.add(res);
    res.once('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopKeepAlive();
    });
    this.keepAlive ??= setInterval(() => this.send(': keep-alive\n\n'), KEEP_ALIVE_MS).unref();
    return true;
  }

  checkEnded(event: CheckEndedEvent): void {
    this.send(`event: check-ended\ndata: ${JSON.stringify(event)}\n\n`);
  }

  statusChanged(event: StatusChangedEvent): void {
    this.send(`event: status\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** Ends every stream (the agent stops). */
  close(): void {
    this.stopKeepAlive();
    for (const res of this.streams) res.destroy();
    this.streams.clear();
  }

  private send(text: string): void {
    for (const res of this.streams) {
      // A client that does not read: its stream goes, not the agent's memory.
      if (res.writableLength > MAX_BUFFERED) res.destroy();
      else res.write(text);
    }
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }
}
