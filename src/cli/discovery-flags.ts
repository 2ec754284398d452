/**
 * How `synker sync` and `synker restore` find the other machine, the same way
 * `synker check` does: the config's static peers first, then mDNS on the LAN
 * (`--no-discovery` turns it off, `--interface` limits it).
 */
import type { Command } from 'commander';
import { DiscoveryLocator } from '../discovery/locator.js';

export interface DiscoveryFlags {
  discovery?: boolean;
  interface?: string[];
}

export function addDiscoveryOptions(command: Command, what: string): Command {
  return command
    .option('--no-discovery', `do not look for ${what} on the LAN (mDNS); use the config's peers and --peer only`)
    .option('--interface <name...>', `look for ${what} over mDNS on these network interfaces only`);
}

/** A locator for the flags; close it when done (it stops mDNS if it was started). */
export function locatorFor(staticPeers: readonly string[], flags: DiscoveryFlags): DiscoveryLocator {
  return new DiscoveryLocator({ staticPeers, mdns: flags.discovery !== false, interfaces: flags.interface ?? [] });
}
