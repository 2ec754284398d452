/**
 * `synker peers`: which agents this machine can see on the LAN (mDNS) and
 * whether the configured static peers answer. Exits 1 when nothing is
 * found, with the usual causes and the --peer fallback.
 *
 * Longer than 300 lines: one command with three sources of peers (mDNS,
 * static addresses, agents of this machine's other homes) and the hint
 * for each way of finding nothing; the survey itself is discovery's.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CERT_FILE, deviceIdOfPem } from '../../identity/identity.js';
import { parseStaticPeer } from '../../discovery/static-peers.js';
import { DEFAULT_PORT } from '../../config/defaults.js';
import { createLogger } from '../../base/log.js';
import { withCliContext, type CliContext } from '../context.js';
import { shortDeviceId } from '../../identity/device-id.js';
import type { PeerEntry } from '../../discovery/peer-table.js';
import { surveyPeers, type Survey } from '../../discovery/survey.js';
import { parseDuration } from '../../base/duration.js';
import { formatDuration } from '../../base/units.js';
import { errnoCode, rethrowIfBug, UsageError } from '../../base/errors.js';
import type { PairingAttempt } from '../../state/agent-state.js';
import { printableText } from '../../base/printable.js';
import { addExamples } from '../help.js';
import { printablePath } from '../../base/printable.js';
import { action, EXIT, ExitError } from '../run.js';

export type PeerStatus = 'this device' | 'trusted' | `trusted as "${string}"` | 'not trusted' | 'wants to pair' | 'not a synker agent';

/** What the local config and agent state say about a device. */
export type TrustLookup = (deviceId: string) => Exclude<PeerStatus, 'not a synker agent'>;

interface PeersOptions {
  timeout: string;
  json?: boolean;
  interface: string[];
  peer: string[];
  discovery?: boolean;
}

/** What `trustLookup` learns besides the trust of each device. */
interface Known {
  trustOf: TrustLookup;
  /** Untrusted devices that tried to connect to this machine's agent, newest first. */
  attempts: PairingAttempt[];
}

const log = createLogger('peers');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const command = program
    .command('peers')
    .description('list the synker agents on the local network and check static peers')
    .option('--timeout <duration>', 'how long to listen (500ms, 3s, 2m or seconds)', '3s')
    .option('--json', 'machine-readable output')
    .option('--interface <name>', 'search only on this network interface (repeatable)', collect, [])
    .option('--peer <host:port>', 'also check an agent at this address (repeatable)', collect, [])
    .option('--no-discovery', "do not listen for agents on the LAN (mDNS): only ask the static peers (the config's and --peer)")
    .action(
      action(async (opts: PeersOptions, command: Command) => {
        // Bad flags are refused before anything is opened.
        const timeoutMs = parseDuration(opts.timeout);
        if (timeoutMs <= 0) throw new UsageError('--timeout must be longer than zero');
        for (const p of opts.peer) parseStaticPeer(p);
        return withCliContext(command.optsWithGlobals(), async (ctx) => {
          const config = ctx.store.current();
          return runPeers(opts, timeoutMs, await trustLookup(ctx), [...config.peers, ...opts.peer]);
        });
      }),
    );
  addExamples(command, [
    ['synker peers', 'agents visible on the local network'],
    ['synker peers --timeout 10s --interface wlan0', 'listen longer, on the Wi-Fi only'],
    [`synker peers --peer 192.168.1.20:${DEFAULT_PORT}`, 'also check an agent at a fixed address'],
    ['synker peers --json', 'for scripts'],
  ]);
}

/**
 * Status of a device from the config (trusted), the agent state (tried to
 * connect: wants to pair) and this device's identity — read, never created.
 */
async function trustLookup(ctx: CliContext): Promise<Known> {
  const config = ctx.store.current();
  let self: string | undefined;
  try {
    self = deviceIdOfPem(await readFile(path.join(ctx.dirs.config, CERT_FILE), 'utf8'));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') log.warn("cannot read this device's identity:", err as Error);
  }
  let attempts: PairingAttempt[] = [];
  try {
    attempts = (await ctx.state()).pairingAttempts();
  } catch (err) {
    rethrowIfBug(err);
    log.warn('cannot read pairing attempts (agent state); "wants to pair" is not shown:', err as Error);
  }
  const pairing = new Set(attempts.map((a) => a.deviceId));
  const trustOf: TrustLookup = (deviceId) => {
    if (deviceId === self) return 'this device';
    const trusted = config.trusted.find((t) => t.deviceId === deviceId);
    if (trusted) return trusted.name ? `trusted as "${printablePath(trusted.name)}"` : 'trusted';
    return pairing.has(deviceId) ? 'wants to pair' : 'not trusted';
  };
  // Trusted since it tried: nothing left to do about it.
  return { trustOf, attempts: attempts.filter((a) => trustOf(a.deviceId) === 'wants to pair') };
}

async function runPeers(opts: PeersOptions, timeoutMs: number, known: Known, staticPeers: string[]): Promise<number> {
  const { trustOf, attempts } = known;
  const mdns = opts.discovery !== false;
  const survey = await surveyPeers({ timeoutMs, interfaces: opts.interface, staticPeers, mdns });
  const now = Date.now();
  const statusOf = (e: PeerEntry): PeerStatus => (e.deviceId === undefined ? 'not a synker agent' : trustOf(e.deviceId));
  const found = survey.agents.length > 0 || survey.localAgents.length > 0 || survey.staticPeers.some((s) => s.deviceId !== undefined);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(toJson(survey, statusOf, trustOf, attempts), null, 2)}\n`);
  } else {
    process.stdout.write(render(survey, statusOf, trustOf, now, timeoutMs, attempts));
  }
  // Found on this machine or at a static address, but the LAN was not searched: say why, once.
  if (found && mdns && survey.interfaces.length === 0)
    log.warn(
      `mDNS searched nowhere: ${opts.interface.length > 0 ? `${opts.interface.join(', ')} (--interface) is not up with an IPv4 address` : 'no network interface is up with an IPv4 address and multicast (loopback only with --interface lo)'}`,
    );
  if (!found) {
    throw new ExitError(
      EXIT.differences,
      'E_PEERS_NONE',
      !mdns
        ? `no agent answered at ${staticPeers.length === 0 ? 'any static peer: there are none (discovery is off; give --peer HOST:PORT)' : `the static peers (${staticPeers.join(', ')}); discovery is off`}`
        : survey.interfaces.length === 0
          ? `no agent found: no network interface to search on${opts.interface.length ? ` (${opts.interface.join(', ')} is not up with an IPv4 address)` : ''}`
          : `no agent found after listening ${formatDuration(timeoutMs)} on ${survey.interfaces.join(', ')}`,
      !mdns
        ? staticPeersHint(staticPeers)
        : survey.interfaces.length === 0
          ? // Nothing was searched: the only causes are the interface names given, or no network at all.
            opts.interface.length > 0
            ? 'Check the --interface name (`ip address` lists the interfaces that are up), or leave --interface out to search every one.'
            : "Connect this machine to a network, or give the other machine's address: synker peers --peer HOST:PORT."
          : [
              'Likely causes:',
              '  - the agent is not running on the other machine (start it with `synker agent`);',
              '  - the network blocks multicast, or the Wi-Fi access point isolates its clients (guest networks often do);',
              "  - a firewall drops mDNS (UDP port 5353) or the agent's TCP port, on this machine or the other;",
              '  - the machines are on different networks or subnets (VPN, Docker or virtual-machine interfaces).',
              'Give the address directly instead: synker peers --peer HOST:PORT (and "peers" in the config for the agent).',
            ].join('\n'),
    );
  }
  return EXIT.ok;
}

/** With discovery off nothing was multicast: only the static addresses can be at fault. */
function staticPeersHint(staticPeers: readonly string[]): string {
  if (staticPeers.length === 0) {
    return 'Give the address of the other machine\'s agent: synker peers --no-discovery --peer HOST:PORT (and "peers" in the config for the agent), or search the local network: synker peers';
  }
  return [
    'Likely causes:',
    '  - the agent is not running on the other machine (start it with `synker agent`);',
    "  - the address or port is wrong (the agent's log says where it listens);",
    "  - a firewall drops the agent's TCP port, on this machine or the other.",
  ].join('\n');
}

function addressList(e: PeerEntry): string {
  if (e.addresses.length === 0) return '(no address)';
  return e.addresses.map((a) => `${a.address}${a.interface ? ` (${a.interface})` : ''}`).join(', ');
}

function render(
  survey: Survey,
  statusOf: (e: PeerEntry) => PeerStatus,
  trustOf: TrustLookup,
  now: number,
  timeoutMs: number,
  attempts: PairingAttempt[],
): string {
  const lines: string[] = [];
  if (survey.agents.length > 0) {
    lines.push(
      `${survey.agents.length} agent${survey.agents.length === 1 ? '' : 's'} on the network (listened ${formatDuration(timeoutMs)} on ${survey.interfaces.join(', ') || 'no interface'}):`,
    );
    // Names, hosts and problems come from the network (mDNS) or from devices that tried to connect: escaped, never raw.
    const rows = survey.agents.map((e) => [
      printablePath(e.name),
      e.deviceId ? shortDeviceId(e.deviceId) : '-',
      statusOf(e),
      printablePath(`${addressList(e)} port ${e.port}`),
      `seen ${formatDuration(Math.max(0, now - e.lastSeen))} ago`,
    ]);
    lines.push(...table(rows));
    for (const e of survey.agents)
      if (e.deviceId === undefined)
        lines.push(
          `  note: "${printablePath(e.name)}" advertises _synker._tcp but is not a synker agent: ${printablePath(e.problems.join('; '))}`,
        );
  }
  // Listed once: an agent of this machine also heard over mDNS (on lo) is in the list above.
  const onlyLocal = survey.localAgents.filter(({ agent }) => !survey.agents.some((e) => e.deviceId === agent.deviceId));
  if (onlyLocal.length > 0) {
    lines.push(
      `${onlyLocal.length} ${survey.agents.length > 0 ? 'more ' : ''}agent${onlyLocal.length === 1 ? '' : 's'} on this machine (this user's homes):`,
    );
    lines.push(
      ...table(
        onlyLocal.map(({ agent }) => [
          printableText(agent.name),
          shortDeviceId(agent.deviceId),
          trustOf(agent.deviceId),
          `${agent.host} port ${agent.port}`,
          `process ${agent.pid}, data ${printableText(agent.dataDir)}`,
        ]),
      ),
    );
  }
  if (survey.staticPeers.length > 0) {
    lines.push('Static peers:');
    lines.push(
      ...table(
        survey.staticPeers.map((s) =>
          s.deviceId !== undefined
            ? [s.peer.text, shortDeviceId(s.deviceId), trustOf(s.deviceId), 'a synker agent answers']
            : [s.peer.text, '-', s.reachable ? 'reachable' : 'unreachable', printablePath(s.error ?? '')],
        ),
      ),
    );
  }
  // Recorded by this machine's agent whichever way they came (mDNS or not): the way to trust them.
  if (attempts.length > 0) {
    lines.push("Untrusted devices that tried to connect to this machine's agent:");
    lines.push(
      ...table(
        attempts.map((a) => [
          a.name === undefined ? '?' : printablePath(a.name),
          shortDeviceId(a.deviceId),
          printablePath(a.address ?? ''),
          `last ${formatDuration(Math.max(0, now - a.lastSeen.getTime()))} ago`,
        ]),
      ),
    );
    lines.push('  To let one in: synker trust DEVICE-ID --name NAME (its full ID: `synker id` on that machine, or --json here)');
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`);
}

function toJson(survey: Survey, statusOf: (e: PeerEntry) => PeerStatus, trustOf: TrustLookup, attempts: PairingAttempt[]): unknown {
  return {
    pairingAttempts: attempts.map((a) => ({
      deviceId: a.deviceId,
      name: a.name ?? null,
      address: a.address ?? null,
      firstSeen: a.firstSeen.toISOString(),
      lastSeen: a.lastSeen.toISOString(),
    })),
    interfaces: survey.interfaces,
    localAgents: survey.localAgents.map(({ agent }) => ({
      name: agent.name,
      deviceId: agent.deviceId,
      status: trustOf(agent.deviceId),
      host: agent.host,
      port: agent.port,
      pid: agent.pid,
      dataDir: agent.dataDir,
      since: agent.since,
    })),
    agents: survey.agents.map((e) => ({
      name: e.name,
      deviceId: e.deviceId ?? null,
      status: statusOf(e),
      protocolVersion: e.protocolVersion ?? null,
      instance: e.instance,
      host: e.host,
      port: e.port,
      addresses: e.addresses.map((a) => ({
        address: a.address,
        family: a.family,
        interface: a.interface ?? null,
        lastSeen: new Date(a.lastSeen).toISOString(),
      })),
      firstSeen: new Date(e.firstSeen).toISOString(),
      lastSeen: new Date(e.lastSeen).toISOString(),
      problems: e.problems,
    })),
    staticPeers: survey.staticPeers.map((s) => ({
      address: s.peer.text,
      host: s.peer.host,
      port: s.peer.port,
      reachable: s.reachable,
      deviceId: s.deviceId ?? null,
      status: s.deviceId === undefined ? null : trustOf(s.deviceId),
      error: s.error ?? null,
    })),
  };
}
