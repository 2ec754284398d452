/**
 * How `synker check`, `sync` and `restore` find the other machine: the
 * config's static peers first, then mDNS on the LAN (`--no-discovery` turns
 * it off, `--interface` limits it). Discovery itself is loaded only when a
 * locator is made, so a check the agent runs never loads it.
 */
import type { Command } from 'commander';
import type { DiscoveryLocator } from '../discovery/locator.js';

export interface DiscoveryFlags {
  discovery?: boolean;
  interface?: string[];
}

export function addDiscoveryOptions(command: Command, what: string): Command {
  return (
    command
      .option('--no-discovery', `do not look for ${what} on the LAN (mDNS); use the config's peers and --peer only`)
      // One name per flag, repeatable (as for `synker agent` and `peers`): a variadic option would
      // swallow the folder ID and paths that follow it.
      .option(
        '--interface <name>',
        `look for ${what} over mDNS on this network interface only (repeatable)`,
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      )
  );
}

/** A locator for the flags; close it when done (it stops mDNS if it was started). */
export async function locatorFor(staticPeers: readonly string[], flags: DiscoveryFlags): Promise<DiscoveryLocator> {
  const { DiscoveryLocator } = await import('../discovery/locator.js');
  return new DiscoveryLocator({ staticPeers, mdns: flags.discovery !== false, interfaces: flags.interface ?? [] });
}
