/**
 * The `web` section of the config: where the agent serves its status page
 * and JSON API (docs/api.md). `{"port": 7781, "listen": "127.0.0.1",
 * "enabled": true}`, every key optional; the agent's `--web-port`,
 * `--web-listen` and `--no-web` override it.
 */
import { isIP } from 'node:net';
import type { JsonPath } from './json-source.js';
import { checkKeys, isObject, kind } from './raw-checks.js';

export interface WebConfig {
  /** The page's port; absent: DEFAULT_WEB_PORT, or the next free one after it. */
  port?: number;
  /** The address it listens on; absent: 127.0.0.1 (this machine only). */
  listen?: string;
  /** false: no page. */
  enabled?: boolean;
}

/** The page's port when none is chosen: the peer port 7780 + 1, fixed so a bookmark keeps working. */
export const DEFAULT_WEB_PORT = 7781;
/** With the default port taken (another home's agent), the ports tried after it. */
export const WEB_PORT_TRIES = 10;
export const DEFAULT_WEB_LISTEN = '127.0.0.1';

const WEB_KEYS = ['port', 'listen', 'enabled'] as const;

/** The section, checked; undefined when absent or wrong (every problem reported through `issue`). */
export function checkWebSection(raw: unknown, issue: (at: JsonPath, message: string) => void): WebConfig | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    issue(['web'], `must be an object like {"port": 7781, "listen": "127.0.0.1"}, found ${kind(raw)}`);
    return undefined;
  }
  checkKeys(raw, WEB_KEYS, ['web'], issue);
  const out: WebConfig = {};
  let ok = true;
  if (raw.port !== undefined) {
    const p = raw.port;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
      issue(['web', 'port'], `must be a port number from 0 to 65535 (0: any free port), found ${JSON.stringify(p)}`);
      ok = false;
    } else out.port = p;
  }
  if (raw.listen !== undefined) {
    if (typeof raw.listen !== 'string' || isIP(raw.listen) === 0) {
      issue(['web', 'listen'], `must be an IP address of this machine like "127.0.0.1", found ${JSON.stringify(raw.listen)}`);
      ok = false;
    } else out.listen = raw.listen;
  }
  if (raw.enabled !== undefined) {
    if (typeof raw.enabled !== 'boolean') {
      issue(['web', 'enabled'], `must be true or false, found ${JSON.stringify(raw.enabled)}`);
      ok = false;
    } else out.enabled = raw.enabled;
  }
  return ok ? out : undefined;
}

/** A loopback address: the page is reachable from this machine only. */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address) || address === '::ffff:127.0.0.1';
}
