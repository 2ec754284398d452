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
import { PendingRequests } from './pending-requests.js';

/** What a backup tells: the message without its request number. */
export type BackupVerdict = Omit<BackupVerdictMessage, 'kind' | 'req'>;

export class VerdictTelling {
  private readonly pending: PendingRequests<void>;

  constructor(
    private readonly connection: Connection,
    nextReq: () => number,
    /** How long the source may take to keep it (one locked write of a small file). */
    private readonly deadlineMs: number,
  ) {
    this.pending = new PendingRequests(nextReq, deadlineMs);
  }

  owns(req: number): boolean {
    return this.pending.owns(req);
  }

  async tell(verdict: BackupVerdict): Promise<void> {
    // The check's result never waits long on this: a source that does not answer is given up on (the session stays).
    await this.pending.ask(
      (req) => this.connection.send({ kind: 'backupVerdict', req, ...verdict }),
      () =>
        new PeerError(
          'E_PEER_STALLED',
          `${this.connection.peerLabel} did not confirm the verdict within ${formatDuration(this.deadlineMs)}`,
        ),
    );
  }

  onAck(req: number): void {
    this.pending.onAnswer(req, undefined);
  }

  onError(req: number, code: string, message: string, hint: string | undefined): void {
    this.pending.onError(req, code, message, hint);
  }

  onClose(error: SynkerError): void {
    this.pending.onClose(error);
  }
}
