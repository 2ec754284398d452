/**
 * Static peer addresses (`host:port`), for networks where multicast does not
 * work. IPv6 literals go in brackets, as in URLs: `[fd00::5]:7780`.
 */
import net from 'node:net';
import { DEFAULT_PORT } from './defaults.js';

export interface PeerAddress {
  host: string;
  port: number;
}

/** Parse `host:port`, `host` (default port) or `[v6]:port`; returns a reason string when invalid. */
export function parsePeerAddress(input: string): PeerAddress | string {
  const text = input.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (net.isIPv6(host) === false) return `"${host}" in brackets is not an IPv6 address`;
  } else {
    const colons = text.split(':').length - 1;
    if (colons > 1) return 'an IPv6 address must be written in brackets, e.g. [fd00::5]:7780';
    [host, portText] = colons === 1 ? (text.split(':') as [string, string]) : [text, undefined];
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$/.test(host) || host.length > 253) {
      return `"${host}" is not a host name or IP address`;
    }
  }
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  if (portText === '') return 'the port is missing after ":" (leave out the colon for the default port)';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return `"${portText}" is not a port number (1-65535)`;
  return { host, port: Number(portText) };
}
