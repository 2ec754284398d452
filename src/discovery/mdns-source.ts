/** The live peer table as a CandidateSource: every address an agent announced, with its interface. */
import type { Candidate, CandidateSource } from './candidates.js';
import { isIpv6LinkLocal } from './interfaces.js';
import type { PeerTable } from './peer-table.js';

export class MdnsCandidates implements CandidateSource {
  readonly name = 'mdns';

  constructor(private readonly table: PeerTable) {}

  candidates(deviceId: string): Candidate[] {
    const entry = this.table.get(deviceId);
    if (!entry) return [];
    return entry.addresses.flatMap((a) => {
      if (isIpv6LinkLocal(a.address)) {
        // A link-local address is only dialable through the interface it was seen on.
        if (a.interface === undefined) return [];
        return [
          {
            host: `${a.address}%${a.interface}`,
            port: entry.port,
            family: 6,
            interface: a.interface,
            source: 'mdns',
            lastSeen: a.lastSeen,
          } satisfies Candidate,
        ];
      }
      return [
        {
          host: a.address,
          port: entry.port,
          family: a.family,
          interface: a.interface,
          source: 'mdns',
          lastSeen: a.lastSeen,
        } satisfies Candidate,
      ];
    });
  }

  onChange(listener: () => void): () => void {
    this.table.on('added', listener);
    this.table.on('updated', listener);
    return () => {
      this.table.off('added', listener);
      this.table.off('updated', listener);
    };
  }
}
