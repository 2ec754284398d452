/**
 * The client's side of `verified-request` (docs/protocol.md, types 8–9): asks
 * a backup, in batches, for the hashes it last verified as matching the
 * source, and routes its answers (or errors) to the waiting caller.
 */
import type { SynkerError } from '../base/errors.js';
import { formatDuration } from '../base/units.js';
import { plural } from '../base/units.js';
import { LIMITS, ProtocolError, type VerifiedRecordAnswer } from '../protocol/index.js';
import type { Connection } from './connection.js';
import { PeerError } from './errors.js';

type Waiting = { resolve: (records: Array<VerifiedRecordAnswer | null>) => void; reject: (error: SynkerError) => void };

export class VerifiedAsking {
  private readonly waiting = new Map<number, Waiting>();
  private closedWith: SynkerError | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly nextReq: () => number,
    /** How long an answer may take: a few hundred look-ups, answered at once by a working agent. */
    private readonly deadlineMs: number,
  ) {}

  owns(req: number): boolean {
    return this.waiting.has(req);
  }

  async request(folderId: string, paths: readonly string[]): Promise<Array<VerifiedRecordAnswer | null>> {
    const records: Array<VerifiedRecordAnswer | null> = [];
    for (let i = 0; i < paths.length; i += LIMITS.verifiedPaths) {
      if (this.closedWith !== undefined) throw this.closedWith;
      const batch = paths.slice(i, i + LIMITS.verifiedPaths);
      const req = this.nextReq();
      const answer = new Promise<Array<VerifiedRecordAnswer | null>>((resolve, reject) => this.waiting.set(req, { resolve, reject }));
      this.connection.send({ kind: 'verifiedRequest', req, folder: folderId, paths: batch });
      // A peer that answers pings but not the request would otherwise hold the restore for ever.
      const timer = setTimeout(() => {
        const error = new PeerError(
          'E_PEER_STALLED',
          `${this.connection.peerLabel} did not say which hashes it verified within ${formatDuration(this.deadlineMs)}, though it is still connected`,
          { hint: 'The agent there may be stuck (a disk that does not answer?); restart it and restore again.' },
        );
        this.waiting.get(req)?.reject(error);
        this.waiting.delete(req);
        this.connection.fail(error);
      }, this.deadlineMs);
      const got = await answer.finally(() => clearTimeout(timer));
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
    const waiting = this.waiting.get(req);
    this.waiting.delete(req);
    waiting?.resolve(records);
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
