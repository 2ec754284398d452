/**
 * The long-running agent: the wss server over the live config (trust,
 * folders and name are read at each session, so `synker trust` and `folder
 * add` apply without a restart), folder manifests from a real scan, pairing
 * attempts recorded in the agent state, the control socket through which
 * `synker check` on this machine has the agent do its checks, and, when
 * enabled, mDNS advertising and the backup schedule. `stop()` ends every
 * part cleanly.
 *
 * Longer than 300 lines: the composition root starts and stops every part
 * in one order, read as one; each part lives in a module of its own.
 */
import path from 'node:path';
import { saveConfigFile } from '../config/config-file.js';
import type { ConfigStore } from '../config/config-store.js';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
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
import { keepBackupVerdict } from '../schedule/backup-verdicts.js';
import { startSourceWatch, type SourceWatch } from '../schedule/source-watch.js';
import { VERIFIED_BY_WORDS } from '../schedule/state.js';
import { holdAgentLock } from './home-lock.js';
import { localDialAddress, readLocalAgents, registerLocalAgent, type LocalAgent, type RegisteredAgent } from '../discovery/local-agents.js';
import { errnoCode } from '../base/errors.js';
import {
  startAgentServer,
  type AgentServer,
  type AgentServerOptions,
  type ManifestScanRequest,
  type ManifestSource,
} from '../peer/server.js';
import { plural } from '../base/units.js';
import { printablePath } from '../base/printable.js';
import { WebEvents } from '../web/events.js';
import { HistoryFeed } from '../schedule/history-feed.js';
import { startAgentWeb, type AgentWeb, type WebOptions } from './web-page.js';

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
  /** The status page's flags (`--web-port`, `--web-listen`, `--no-web`); the config's `web` section otherwise. */
  web?: WebOptions;
}

export interface RunningAgent {
  readonly port: number;
  /** The status page's address (without its token); undefined when it is off. */
  readonly webUrl: string | undefined;
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
    const scan = scanFolder(folder.path, { ...scanOptions, signal, verify: request.verify, hash: request.hash });
    return {
      ignoreRules: text === '' ? [] : text.split(/\r?\n/),
      entries: scan,
      progress: () => scan.progress,
    };
  };
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const log = options.logger ?? createLogger('agent');
  const { store, identity, state } = options;
  const agentName = (): string => options.name ?? store.current().name;

  // Before anything listens: a second agent on the same home names the first and stops here.
  const homeLock = await holdAgentLock(options.dataDir);
  /** On a source: the "no backup verified it since" alert and its recovery mail (started with the schedule). */
  let sourceWatch: SourceWatch | undefined;
  let server: AgentServer;
  const listen = (port: number): Promise<AgentServer> =>
    startAgentServer({
      identity,
      directory: {
        agentName,
        trusted: (deviceId) => store.current().trusted.find((t) => t.deviceId === deviceId),
        folders: () => store.current().folders,
      },
      manifestSource: scanningSource(),
      // A restore on the source judges which side changed against what this backup last verified.
      verifiedRecords: (folder, paths) => readVerified(state, folder.id, paths).map((r) => r ?? null),
      // A source keeps what its backups verified, for its own `synker status` (the session checked trust, role and sharing).
      backupVerdicts: async (folder, deviceId, verdict) => {
        const name = store.current().trusted.find((t) => t.deviceId === deviceId)?.name ?? shortDeviceId(deviceId);
        const kept = await keepBackupVerdict(options.dataDir, folder.id, { deviceId, name }, verdict);
        // A verification may end a "no backup verified it" episode: the watch looks at once.
        void sourceWatch?.check();
        log.info(
          `"${folder.id}": ${printablePath(name)} says: ${printablePath(kept.summary)} (${kept.by === undefined ? 'check' : VERIFIED_BY_WORDS[kept.by]})`,
        );
      },
      onUntrustedDevice: (attempt) => {
        state
          .recordPairingAttempt(attempt)
          .catch((err: unknown) => log.error(`could not record the pairing attempt of ${formatDeviceId(attempt.deviceId)}`, err));
      },
      port,
      logger: log,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.caps !== undefined ? { caps: options.caps } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
    });
  try {
    const configPort = store.current().port;
    server = await listen(options.port ?? configPort).catch((err: unknown) => {
      // The config's port (not --port) held by the agent of another home of this user: every home's
      // config has the same default, and peers find an agent by discovery, not by its port.
      const other =
        options.port === undefined && errnoCode(err) === 'EADDRINUSE' ? otherHomeOnPort(configPort, options.dataDir) : undefined;
      if (other === undefined) throw err;
      log.warn(
        `port ${configPort} (the config's) is held by the agent of another home on this machine (process ${other.pid}, data ${other.dataDir}): ` +
          `listening on a free port instead. Discovery finds this agent there; for a fixed port (--peer from other machines), set "port" in ${options.configPath ?? 'the config'}.`,
      );
      return listen(0);
    });
  } catch (err) {
    await homeLock.release();
    throw err;
  }

  let discovery: Discovery | undefined;
  /** The status page's live updates: every check that ends here, every change of the config or the outbox. */
  const events = new WebEvents();
  const onChange = (
    config: { folders: FolderConfig[]; trusted: unknown[]; port: number; name: string },
    previous: { port: number; name: string },
  ): void => {
    log.info(`config changed: ${describeFolders(config.folders)}; ${plural(config.trusted.length, 'trusted device')}`);
    events.statusChanged({ reason: 'config' });
    if (config.port !== previous.port && options.port === undefined)
      log.warn(`the port changed to ${config.port}: restart the agent to listen there (it stays on ${server.port})`);
    // Sessions read the name each time; mDNS announced it once, so peers' lists would show the old one until a restart.
    if (config.name !== previous.name && options.name === undefined && registered !== undefined) void registerLocally();
    if (config.name !== previous.name && options.name === undefined && discovery?.advertiser) {
      discovery.advertiser
        .rename(config.name)
        .catch((err: unknown) =>
          log.warn(`could not announce the new name "${config.name}" over mDNS (restart the agent to do so)`, err as Error),
        );
    }
  };
  store.on('change', onChange);
  /** This agent's entry for this machine's other homes (written again when its name changes). */
  const registerLocally = (): Promise<RegisteredAgent | undefined> =>
    registerLocalAgent({
      deviceId: identity.deviceId,
      name: agentName(),
      host: localDialAddress(server.host),
      port: server.port,
      dataDir: options.dataDir,
    }).catch((err: unknown) => {
      log.warn("cannot register with this machine's other homes (they will need --peer to find this agent):", err as Error);
      return undefined;
    });

  let schedule: BackupSchedule | undefined;
  let control: ControlServer | undefined;
  let registered: RegisteredAgent | undefined;
  let web: AgentWeb | undefined;
  let feed: HistoryFeed | undefined;
  try {
    // Without its config file's path the agent cannot tell whether a CLI reads the same config.
    if (options.configPath !== undefined) {
      control = await startControlServer({
        dataDir: options.dataDir,
        logger: log,
        check: agentChecks({
          dataDir: options.dataDir,
          store,
          identity,
          state,
          configPath: options.configPath,
          search: { mdns: options.discovery !== false, interfaces: options.interfaces ?? [] },
        }),
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
    }
    // Whatever mDNS does: another home of this user on this machine finds the agent here, at once.
    registered = await registerLocally();
    if (discovery !== undefined)
      logAdvertising(log, discovery, server.host, server.port, options.interfaces ?? [], registered !== undefined);
    if (options.schedule !== false) {
      // Scheduled checks look for the source the way this agent was told to: no mDNS, or only on its interfaces.
      const checkArgs =
        options.discovery === false
          ? ['--no-discovery']
          : options.interfaces && options.interfaces.length > 0
            ? ['--interface', ...options.interfaces]
            : [];
      sourceWatch = startSourceWatch({ config: () => store.current(), dataDir: options.dataDir });
      schedule = startBackupSchedule({
        config: () => store.current(),
        dataDir: options.dataDir,
        checkArgs,
        configInForce: () => configInForceFile(store, options.dataDir),
        ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
        onOutboxChange: () => events.statusChanged({ reason: 'outbox' }),
      });
    }
    web = await startAgentWeb({
      options: options.web,
      store,
      dataDir: options.dataDir,
      deviceId: identity.deviceId,
      agentName,
      schedule: () => schedule,
      events,
      logger: log,
    });
    if (web !== undefined) {
      // Every run recorded here, by the schedule or by a CLI (a check the agent did for it too), once recorded.
      feed = await HistoryFeed.start(options.dataDir);
      feed.subscribe((ended) => events.checkEnded({ folder: ended.folder, at: ended.at, status: ended.status }));
    }
  } catch (err) {
    await Promise.allSettled([
      registered?.remove(),
      discovery?.stop(),
      control?.close(),
      schedule?.stop(),
      sourceWatch?.stop(),
      feed?.close(),
      web?.close(),
      server.close(),
    ]);
    await homeLock.release();
    throw err;
  }

  log.info(
    `synker agent "${printablePath(agentName())}" (${formatDeviceId(identity.deviceId)}) on port ${server.port}: ${describeFolders(store.current().folders)}` +
      `${discovery ? '' : '; mDNS off'}${schedule ? '' : '; schedule off'}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    webUrl: web?.url,
    server,
    stop() {
      stopping ??= (async () => {
        store.off('change', onChange);
        // Each part stops even if another fails; the first failure is reported.
        const results = await Promise.allSettled([
          web?.close(),
          feed?.close(),
          registered?.remove(),
          schedule?.stop(),
          sourceWatch?.stop(),
          discovery?.stop(),
          control?.close(),
          server.close(),
        ]);
        await homeLock.release();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return stopping;
    },
  };
}

/**
 * Where mDNS announces this agent, said once at start: with `--listen`, that
 * address only, on the interface that has it; a warning when it is announced
 * nowhere (no interface up with IPv4 and multicast, loopback not named, or no
 * interface discovery runs on has the `--listen` address), saying who finds
 * it all the same. Interfaces that come up later are logged as they come.
 */
function logAdvertising(log: Logger, discovery: Discovery, host: string, port: number, named: readonly string[], local: boolean): void {
  const listenOne = host !== '::' && host !== '0.0.0.0';
  const on = discovery.advertiser?.served().map((l) => l.name) ?? [];
  discovery.links.on('up', (link) => {
    if (discovery.advertiser?.served().includes(link)) log.info(`mDNS announces this agent on ${link.name} (it came up)`);
  });
  if (on.length > 0) {
    log.info(listenOne ? `mDNS announces ${host} only (--listen), on ${on.join(', ')}` : `mDNS announces this agent on ${on.join(', ')}`);
    return;
  }
  const loopback = host.startsWith('127.') || host === '::1';
  const why = listenOne
    ? `${host} (--listen) is on no interface discovery runs on${loopback && !named.includes('lo') ? ' (loopback only with --interface lo)' : ''}`
    : named.length > 0
      ? `${named.join(', ')} (--interface) ${named.length === 1 ? 'is' : 'are'} not up with an IPv4 address`
      : 'no network interface is up with an IPv4 address and multicast (loopback is searched only with --interface lo)';
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.warn(
    `mDNS announces nothing: ${why}; peers need this agent's address (--peer ${listenOne ? address : `ADDRESS:${port}`})` +
      (local ? "; this user's other homes on this machine find it all the same" : ''),
  );
}

/** The running agent of another home of this user that listens on `port`, if one registered. */
function otherHomeOnPort(port: number, dataDir: string): LocalAgent | undefined {
  return readLocalAgents().find((a) => a.port === port && a.dataDir !== path.resolve(dataDir));
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
