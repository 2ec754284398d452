/**
 * Where `synker ui` finds the page: the agent writes `web.json` into its data
 * directory (owner-only) once its page listens, and removes it when it stops.
 * Each home has its own data directory, so two homes on one machine each open
 * their own agent's page; a file left by an agent that died is recognised by
 * its process being gone.
 */
import { readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.js';
import { errnoCode } from '../base/errors.js';

export interface WebAddress {
  /** The page's address, without the token: `http://127.0.0.1:7781/`. */
  url: string;
  host: string;
  port: number;
  pid: number;
}

export function webAddressFile(dataDir: string): string {
  return path.join(dataDir, 'web.json');
}

/** The URL of a page served on `host`:`port` (IPv6 in brackets; every address: loopback). */
export function pageUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}/`;
}

export async function writeWebAddress(dataDir: string, host: string, port: number): Promise<WebAddress> {
  const address: WebAddress = { url: pageUrl(host, port), host, port, pid: process.pid };
  await writeFileAtomic(webAddressFile(dataDir), `${JSON.stringify(address)}\n`, { mode: 0o600 });
  return address;
}

export async function removeWebAddress(dataDir: string, address: WebAddress): Promise<void> {
  // Only our own: a newer agent of this home may have written its address meanwhile.
  const now = await readWebAddress(dataDir, () => true);
  if (now !== undefined && now.pid === address.pid && now.port === address.port) await rm(webAddressFile(dataDir), { force: true });
}

/**
 * What web.json says: the page's address (its agent alive), or why there is
 * none: no file, a file that is not the address an agent writes (damaged,
 * edited, emptied), or the address of an agent whose process is gone.
 */
export type WebAddressState =
  | { state: 'ok'; address: WebAddress }
  | { state: 'missing' }
  | { state: 'damaged' }
  | { state: 'gone'; pid: number };

export async function webAddressState(dataDir: string, alive: (pid: number) => boolean = processAlive): Promise<WebAddressState> {
  let text: string;
  try {
    text = await readFile(webAddressFile(dataDir), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { state: 'missing' };
    // Not a file one can read as text (a folder or a link loop where the agent writes its file): damaged, as garbage would be.
    if (errnoCode(err) === 'EISDIR' || errnoCode(err) === 'ELOOP') return { state: 'damaged' };
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { state: 'damaged' };
  }
  const a = value as Partial<WebAddress> | null;
  if (
    typeof a !== 'object' ||
    a === null ||
    typeof a.url !== 'string' ||
    typeof a.host !== 'string' ||
    typeof a.port !== 'number' ||
    typeof a.pid !== 'number' ||
    // Only the address an agent writes: its page on an IP address of this machine, nothing `synker ui` would
    // hand the token to elsewhere (another site, a file: URL) if the file were edited.
    isIP(a.host) === 0 ||
    !Number.isInteger(a.port) ||
    a.port < 1 ||
    a.port > 65_535 ||
    a.url !== pageUrl(a.host, a.port)
  )
    return { state: 'damaged' };
  if (!alive(a.pid)) return { state: 'gone', pid: a.pid };
  return { state: 'ok', address: { url: a.url, host: a.host, port: a.port, pid: a.pid } };
}

/** The address of the running agent's page; undefined when none is recorded or its process is gone. */
export async function readWebAddress(dataDir: string, alive: (pid: number) => boolean = processAlive): Promise<WebAddress | undefined> {
  const read = await webAddressState(dataDir, alive);
  return read.state === 'ok' ? read.address : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it lives, as another user's process (not ours then, but not gone).
    return errnoCode(err) === 'EPERM';
  }
}
