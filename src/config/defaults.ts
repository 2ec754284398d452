/**
 * Every default of the user config, in one place (docs/configuration.md
 * lists the same values). A key missing from the file takes its default here.
 */
import os from 'node:os';
import type { SynkerConfig } from './types.js';

/** The config format this synker writes; older files are migrated on load (migrate.ts). */
export const CONFIG_VERSION = 1;

/**
 * The agent's TCP port. 7780 is unassigned by IANA and stays clear of
 * Syncthing (22000), so both can run on one machine.
 */
export const DEFAULT_PORT = 7780;

/** Config file name inside the platform config dir (see dirs.ts). */
export const CONFIG_FILE_NAME = 'config.json';

/** The default agent name: this machine's host name without its domain, so `nas.local` shows as `nas`. */
export function defaultAgentName(hostname = os.hostname()): string {
  const short = hostname.split('.')[0] ?? '';
  return short === '' ? 'synker' : short.slice(0, 63);
}

export function defaultConfig(hostname?: string): SynkerConfig {
  return { version: CONFIG_VERSION, name: defaultAgentName(hostname), port: DEFAULT_PORT, folders: [], trusted: [], peers: [] };
}
