/**
 * The agent's TCP port: free (the agent is not running), held by this
 * device's own agent (found by its certificate), or taken by something else
 * that would stop the agent from starting.
 */
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { errnoCode } from '../base/errors.js';
import { deviceIdFromCertificate, formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import { endProbe } from '../identity/tls.js';
import { fail, ok, warn, type Finding } from './finding.js';

const CHECK = 'port';
const PROBE_TIMEOUT_MS = 2000;

export interface PortCheckOptions {
  port: number;
  /** This machine's agent answers on its control socket (it runs, on whatever port). */
  agentRunning?: boolean;
  /** This device's ID, to recognise its own agent on the port. */
  deviceId?: string;
  /** Where the agent would be reached from this machine. */
  host?: string;
  /** The port this home's agent registered on this machine (docs/discovery.md, "Agents on this machine"). */
  registeredPort?: number;
  /** The agent of another home of this user registered on `port`. */
  otherHome?: { pid: number; dataDir: string; deviceId: string };
}

export async function checkAgentPort(options: PortCheckOptions): Promise<Finding> {
  const { port } = options;
  const bind = await tryBind(port);
  if (bind === 'free') {
    if (options.agentRunning === true) {
      return warn(
        CHECK,
        `this machine's agent runs, but not on TCP port ${port}, the config's "port" (started with --port?): peers that list this machine's address with port ${port} cannot reach it`,
        `Restart the agent without --port, or set "port" in the config to the port it uses.`,
      );
    }
    return ok(CHECK, `TCP port ${port} is free (the agent is not running here)`);
  }
  if (bind !== 'in-use') {
    return fail(
      CHECK,
      `the agent cannot listen on TCP port ${port}: ${bind}`,
      port < 1024 ? 'Use a port above 1023 ("port" in the config).' : 'Choose another port ("port" in the config).',
    );
  }
  const holder = await probeTls(options.host ?? '127.0.0.1', port);
  if (holder.kind === 'synker' && options.deviceId !== undefined && holder.deviceId === options.deviceId) {
    return ok(CHECK, `the agent is running and listening on TCP port ${port}`);
  }
  const other = options.otherHome;
  if (holder.kind === 'synker' && other !== undefined && holder.deviceId === other.deviceId) {
    // Two homes on one machine: this home's agent steps off the config's port (agent.ts), and says so in its log.
    const held = `${port}, the config's "port", is held by the agent of another home on this machine (process ${other.pid}, data ${other.dataDir})`;
    return options.registeredPort !== undefined
      ? ok(CHECK, `the agent is running on TCP port ${options.registeredPort}: ${held}`)
      : ok(CHECK, `TCP port ${held}: this home's agent (not running) will listen on a free port instead`);
  }
  if (holder.kind === 'synker') {
    return fail(
      CHECK,
      `TCP port ${port} is held by another synker agent or TLS server (certificate ${shortDeviceId(holder.deviceId)}…), not by this device's agent (${options.deviceId ? formatDeviceId(options.deviceId) : 'no identity'})`,
      `Stop the other agent (another config or SYNKER_HOME?), or give this one another "port" in the config.`,
    );
  }
  return fail(
    CHECK,
    `TCP port ${port} is in use by another program, so the agent cannot start`,
    `See which with \`ss -ltnp 'sport = :${port}'\` (or \`lsof -i :${port}\`), stop it, or set another "port" in the config.`,
  );
}

/** 'free', 'in-use', or the reason binding failed otherwise. */
function tryBind(port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(errnoCode(err) === 'EADDRINUSE' ? 'in-use' : (err as Error).message));
    // No host: the same dual-stack wildcard an agent listening on all interfaces uses.
    server.listen({ port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

type Holder = { kind: 'synker'; deviceId: string } | { kind: 'other' };

/**
 * Complete a TLS handshake (no client certificate) and identify the server by its certificate.
 * The probe then closes politely (its last handshake message flushed, then close_notify), so an
 * agent on the port sees a finished handshake and a goodbye, not a hang-up in the middle of one.
 */
function probeTls(host: string, port: number): Promise<Holder> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (holder: Holder, polite = false): void => {
      if (settled) return;
      settled = true;
      if (polite) endProbe(socket);
      else socket.destroy();
      resolve(holder);
    };
    // Identity is checked by hand below (the device ID is the certificate's hash), as the agent's peers do.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, timeout: PROBE_TIMEOUT_MS }, () => {
      const raw = socket.getPeerCertificate(true)?.raw;
      if (!raw || raw.length === 0) return done({ kind: 'other' }, true);
      try {
        new X509Certificate(raw);
        done({ kind: 'synker', deviceId: deviceIdFromCertificate(raw) }, true);
      } catch {
        done({ kind: 'other' }, true);
      }
    });
    socket.on('timeout', () => done({ kind: 'other' }));
    socket.on('error', () => done({ kind: 'other' }));
  });
}
