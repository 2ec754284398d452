/**
 * The client's side of `backup-verdict` (docs/protocol.md, types 11–12): a
 * backup tells its source what a check or sync found, and waits for the
 * source's ack or error. Only to a server that announced `backup-verdict`.
 */
import { formatDuration } from '../base/units.js';
import type { BackupVerdictMessage } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { PeerError } from './errors.js';
import { PendingRequests } from './pending-requests.js';

/** What a backup tells: the message without its request number. */
export type BackupVerdict = Omit<BackupVerdictMessage, 'kind' | 'req'>;

export class VerdictTelling extends PendingRequests<void> {
  /** `deadlineMs`: how long the source may take to keep it (one locked write of a small file). */
  constructor(
    private readonly connection: Connection,
    nextReq: () => number,
    deadlineMs: number,
  ) {
    super(nextReq, deadlineMs);
  }

  async tell(verdict: BackupVerdict): Promise<void> {
    // The check's result never waits long on this: a source that does not answer is given up on (the session stays).
    await this.ask(
      (req) => this.connection.send({ kind: 'backupVerdict', req, ...verdict }),
      () =>
        new PeerError(
          'E_PEER_STALLED',
          `${this.connection.peerLabel} did not confirm the verdict within ${formatDuration(this.deadlineMs)}`,
        ),
    );
  }

  onAck(req: number): void {
    this.onAnswer(req, undefined);
  }
}
