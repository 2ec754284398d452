/**
 * The long-running agent: the wss server over the live config (trust,
 * folders and name are read at each session, so `synker trust` and `folder
 * add` apply without a restart), folder manifests from a real scan, pairing
 * attempts recorded in the agent state, the control socket through which
 * `synker check` on this machine has the agent do its checks, and, when
 * enabled, mDNS advertising and the backup schedule. `stop()` ends every
 * part cleanly.
 */
import path from 'node:path';
import { saveConfigFile } from '../config/config-file.js';
import type { ConfigStore } from '../config/config-store.js';
import { formatDeviceId } from '../identity/device-id.js';
import { verifyFolderRoot } from '../config/folder-marker.js';
import type { Identity } from '../identity/identity.js';
import type { FolderConfig } from '../config/types.js';
import { agentChecks } from '../control/agent-checks.js';
import { startControlServer, type ControlServer } from '../control/server.js';
import { startDiscovery, type Discovery } from '../discovery/index.js';
import { createLogger, type Logger } from '../base/log.js';
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { readIgnoreRules, scanFolder, type ScanOptions } from '../scan/index.js';
import { startBackupSchedule, type BackupSchedule } from '../schedule/backup-schedule.js';
import type { AgentState } from '../state/agent-state.js';
import { readVerified } from '../check/verified-store.js';
import {
  startAgentServer,
  type AgentServer,
  type AgentServerOptions,
  type ManifestScanRequest,
  type ManifestSource,
} from '../peer/server.js';
import { plural } from '../base/units.js';

/** The listening socket's settings are the server's (`host`, `caps`, `timeouts`, `logger`). */
export interface AgentOptions extends Pick<AgentServerOptions, 'host' | 'caps' | 'timeouts' | 'logger'> {
  store: ConfigStore;
  identity: Identity;
  state: AgentState;
  dataDir: string;
  /** The config file, passed on to scheduled check processes. */
  configPath?: string;
  /** Overrides the config's `port` (0: any free port). */
  port?: number;
  /** Overrides the config's `name`. */
  name?: string;
  /** Advertise over mDNS (default true). */
  discovery?: boolean;
  /** Advertise only on these network interfaces (`--interface`; default: every eligible one). */
  interfaces?: readonly string[];
  /** Run the backup folders' check schedule (default true). */
  schedule?: boolean;
}

export interface RunningAgent {
  readonly port: number;
  readonly server: AgentServer;
  stop(): Promise<void>;
}

/**
 * A folder's manifest from a real scan, hashed the way the client asked:
 * through the hash cache, re-hashing everything (`verify`: the cache is
 * bypassed and refreshed), or not at all (`hash: false`). The folder marker
 * is checked first so an unmounted disk is reported as absent, never served
 * as an empty folder.
 */
export function scanningSource(scanOptions: Pick<ScanOptions, 'cacheDir' | 'jobs'> = {}): ManifestSource {
  return async (folder: FolderConfig, signal: AbortSignal, request: ManifestScanRequest = { verify: false, hash: true }) => {
    await verifyFolderRoot(folder.path, folder.id);
    const text = await readIgnoreRules(folder.path);
    return {
      ignoreRules: text === '' ? [] : text.split(/\r?\n/),
      entries: scanFolder(folder.path, { ...scanOptions, signal, verify: request.verify, hash: request.hash }),
    };
  };
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const log = options.logger ?? createLogger('agent');
  const { store, identity, state } = options;
  const agentName = (): string => options.name ?? store.current().name;

  const server = await startAgentServer({
    identity,
    directory: {
      agentName,
      trusted: (deviceId) => store.current().trusted.find((t) => t.deviceId === deviceId),
      folders: () => store.current().folders,
    },
    manifestSource: scanningSource(),
    // A restore on the source judges which side changed against what this backup last verified.
    verifiedRecords: (folder, paths) => readVerified(state, folder.id, paths).map((r) => r ?? null),
    onUntrustedDevice: (attempt) => {
      state
        .recordPairingAttempt(attempt)
        .catch((err: unknown) => log.error(`could not record the pairing attempt of ${formatDeviceId(attempt.deviceId)}`, err));
    },
    port: options.port ?? store.current().port,
    logger: log,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.caps !== undefined ? { caps: options.caps } : {}),
    ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
  });

  let discovery: Discovery | undefined;
  const onChange = (
    config: { folders: FolderConfig[]; trusted: unknown[]; port: number; name: string },
    previous: { port: number; name: string },
  ): void => {
    log.info(`config changed: ${describeFolders(config.folders)}; ${plural(config.trusted.length, 'trusted device')}`);
    if (config.port !== previous.port && options.port === undefined)
      log.warn(`the port changed to ${config.port}: restart the agent to listen there (it stays on ${server.port})`);
    // Sessions read the name each time; mDNS announced it once, so peers' lists would show the old one until a restart.
    if (config.name !== previous.name && options.name === undefined && discovery?.advertiser) {
      discovery.advertiser
        .rename(config.name)
        .catch((err: unknown) =>
          log.warn(`could not announce the new name "${config.name}" over mDNS (restart the agent to do so)`, err as Error),
        );
    }
  };
  store.on('change', onChange);

  let schedule: BackupSchedule | undefined;
  let control: ControlServer | undefined;
  try {
    // Without its config file's path the agent cannot tell whether a CLI reads the same config.
    if (options.configPath !== undefined) {
      control = await startControlServer({
        dataDir: options.dataDir,
        logger: log,
        check: agentChecks({ store, identity, state, configPath: options.configPath }),
      });
    }
    if (options.discovery !== false) {
      discovery = await startDiscovery({
        advertise: {
          deviceId: identity.deviceId,
          name: agentName(),
          port: server.port,
          protocolVersion: PROTOCOL_VERSION,
          listenAddress: server.host,
        },
        browse: false,
        ...(options.interfaces !== undefined && options.interfaces.length > 0 ? { interfaces: options.interfaces } : {}),
      });
      if (options.host !== undefined) logListenAdvertising(log, discovery, server.host, server.port);
    }
    if (options.schedule !== false) {
      // Scheduled checks look for the source the way this agent was told to: no mDNS, or only on its interfaces.
      const checkArgs =
        options.discovery === false
          ? ['--no-discovery']
          : options.interfaces && options.interfaces.length > 0
            ? ['--interface', ...options.interfaces]
            : [];
      schedule = startBackupSchedule({
        config: () => store.current(),
        dataDir: options.dataDir,
        checkArgs,
        configInForce: () => configInForceFile(store, options.dataDir),
        ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
      });
    }
  } catch (err) {
    await Promise.allSettled([discovery?.stop(), control?.close(), server.close()]);
    throw err;
  }

  log.info(
    `synker agent "${agentName()}" (${formatDeviceId(identity.deviceId)}) on port ${server.port}: ${describeFolders(store.current().folders)}` +
      `${discovery ? '' : '; mDNS off'}${schedule ? '' : '; schedule off'}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    server,
    stop() {
      stopping ??= (async () => {
        store.off('change', onChange);
        // Each part stops even if another fails; the first failure is reported.
        const results = await Promise.allSettled([schedule?.stop(), discovery?.stop(), control?.close(), server.close()]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return stopping;
    },
  };
}

/** With `--listen`, only that address is announced: say where, or that no interface discovery runs on has it. */
function logListenAdvertising(log: Logger, discovery: Discovery, host: string, port: number): void {
  if (host === '::' || host === '0.0.0.0') return;
  const on = discovery.advertiser?.served().map((l) => l.name) ?? [];
  if (on.length > 0) {
    log.info(`mDNS announces ${host} only (--listen), on ${on.join(', ')}`);
    return;
  }
  const loopback = host.startsWith('127.') || host === '::1';
  log.warn(
    `mDNS announces nothing: ${host} (--listen) is on no interface discovery runs on${loopback ? ' (loopback only with --interface lo)' : ''}; ` +
      `peers need this agent's address (--peer ${host.includes(':') ? `[${host}]` : host}:${port})`,
  );
}

function describeFolders(folders: readonly FolderConfig[]): string {
  if (folders.length === 0) return 'no folders yet (synker folder add)';
  return `serving ${folders.map((f) => `${f.id} (${f.role}, shared with ${f.shareWith.length})`).join(', ')}`;
}

/**
 * While the config file is broken, the scheduled checks run with the config
 * the agent keeps in force, written next to the agent state (owner only),
 * as docs/configuration.md promises: "the last good config stays in force".
 */
export async function configInForceFile(store: ConfigStore, dataDir: string): Promise<string | undefined> {
  if (store.lastError() === undefined) return undefined;
  const file = path.join(dataDir, 'config.in-force.json');
  await saveConfigFile(file, store.current());
  return file;
}
