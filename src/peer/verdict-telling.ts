/**
 * The client's side of `backup-verdict` (docs/protocol.md, types 11–12): a
 * backup tells its source what a check or sync found, and waits for the
 * source's ack or error. Only to a server that announced `backup-verdict`.
 */
import type { SynkerError } from '../base/errors.js';
import { formatDuration } from '../base/units.js';
import type { BackupVerdictMessage } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { PeerError } from './errors.js';

/** What a backup tells: the message without its request number. */
export type BackupVerdict = Omit<BackupVerdictMessage, 'kind' | 'req'>;

type Waiting = { resolve: () => void; reject: (error: SynkerError) => void };

export class VerdictTelling {
  private readonly waiting = new Map<number, Waiting>();
  private closedWith: SynkerError | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly nextReq: () => number,
    /** How long the source may take to keep it (one locked write of a small file). */
    private readonly deadlineMs: number,
  ) {}

  owns(req: number): boolean {
    return this.waiting.has(req);
  }

  async tell(verdict: BackupVerdict): Promise<void> {
    if (this.closedWith !== undefined) throw this.closedWith;
    const req = this.nextReq();
    const answer = new Promise<void>((resolve, reject) => this.waiting.set(req, { resolve, reject }));
    this.connection.send({ kind: 'backupVerdict', req, ...verdict });
    // The check's result never waits long on this: a source that does not answer is given up on (the session stays).
    const timer = setTimeout(() => {
      this.waiting
        .get(req)
        ?.reject(
          new PeerError(
            'E_PEER_STALLED',
            `${this.connection.peerLabel} did not confirm the verdict within ${formatDuration(this.deadlineMs)}`,
          ),
        );
      this.waiting.delete(req);
    }, this.deadlineMs);
    await answer.finally(() => clearTimeout(timer));
  }

  onAck(req: number): void {
    const waiting = this.waiting.get(req);
    this.waiting.delete(req);
    waiting?.resolve();
  }

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
