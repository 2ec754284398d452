/**
 * The client's side of `verified-request` (docs/protocol.md, types 8–9): asks
 * a backup, in batches, for the hashes it last verified as matching the
 * source, and routes its answers (or errors) to the waiting caller.
 */
import { formatDuration } from '../base/units.js';
import { plural } from '../base/units.js';
import { LIMITS, ProtocolError, type VerifiedRecordAnswer } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { PeerError } from './errors.js';
import { PendingRequests } from './pending-requests.js';

export class VerifiedAsking extends PendingRequests<Array<VerifiedRecordAnswer | null>> {
  /** `deadlineMs`: how long an answer may take (a few hundred look-ups, answered at once by a working agent). */
  constructor(
    private readonly connection: Connection,
    nextReq: () => number,
    deadlineMs: number,
  ) {
    super(nextReq, deadlineMs);
  }

  async request(folderId: string, paths: readonly string[]): Promise<Array<VerifiedRecordAnswer | null>> {
    const records: Array<VerifiedRecordAnswer | null> = [];
    for (let i = 0; i < paths.length; i += LIMITS.verifiedPaths) {
      const batch = paths.slice(i, i + LIMITS.verifiedPaths);
      // A peer that answers pings but not the request would otherwise hold the restore for ever.
      const got = await this.ask(
        (req) => this.connection.send({ kind: 'verifiedRequest', req, folder: folderId, paths: batch }),
        () =>
          new PeerError(
            'E_PEER_STALLED',
            `${this.connection.peerLabel} did not say which hashes it verified within ${formatDuration(this.deadlineMs)}, though it is still connected`,
            { hint: 'The agent there may be stuck (a disk that does not answer?); restart it and restore again.' },
          ),
        (error) => this.connection.fail(error),
      );
      if (got.length !== batch.length) {
        const error = new ProtocolError(
          'E_MALFORMED',
          `${this.connection.peerLabel} answered ${plural(got.length, 'verified record')} for ${plural(batch.length, 'path')}`,
        );
        this.connection.fail(error);
        throw error;
      }
      records.push(...got);
    }
    return records;
  }

  /** The answer to a request of ours (the caller checked owns()). */
  onRecords(req: number, records: Array<VerifiedRecordAnswer | null>): void {
    this.onAnswer(req, records);
  }
}
