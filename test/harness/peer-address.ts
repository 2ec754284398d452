/**
 * Test helpers around static peer addresses: writing one back
 * (`host:port`), and a locator that yields only the config's static peers.
 * synker itself never needs either (the agent writes no addresses; checks
 * locate through discovery), so they live with the tests.
 */
import net from 'node:net';
import type { SourceLocator } from '../../src/check/find-source.js';
import { CheckError } from '../../src/check/errors.js';
import { parsePeerAddress, type PeerAddress } from '../../src/config/peer-address.js';

/** `host:port` with IPv6 literals bracketed. */
export function formatPeerAddress(address: PeerAddress): string {
  return `${net.isIPv6(address.host) ? `[${address.host}]` : address.host}:${address.port}`;
}

/** Addresses from the config's static `peers` list, then nothing else. */
export function staticLocator(addresses: readonly string[], via = 'config'): SourceLocator {
  const parsed = addresses.map((text) => {
    const address = parsePeerAddress(text);
    if (typeof address === 'string') {
      throw new CheckError('E_CHECK_PEER', `the peer address "${text}" in the config is not valid: ${address}`, {
        hint: 'Fix "peers" in the config (host:port, IPv6 in brackets).',
      });
    }
    return { ...address, via };
  });
  return {
    async *addresses() {
      yield* parsed;
    },
  };
}
