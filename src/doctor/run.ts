/**
 * `synker doctor`: every check that can run, in an order where later ones
 * use what earlier ones found (the config names the port, the peers and the
 * mail server). Independent network checks run side by side.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CERT_FILE, deviceIdOfPem } from '../identity/identity.js';
import { DEFAULT_PORT } from '../config/defaults.js';
import type { SynkerConfig } from '../config/types.js';
import { SynkerError } from '../base/errors.js';
import { checkConfig } from './config-check.js';
import { skip, summarize, type DoctorReport, type Finding } from './finding.js';
import { checkIdentity } from './identity-check.js';
import { checkMulticast } from './multicast-check.js';
import { checkPeers } from './peers-check.js';
import { agentAnswers } from '../control/client.js';
import { checkAgentPort } from './port-check.js';
import { checkSmtp } from './smtp-check.js';
import { loadOrCreateIdentity } from '../identity/identity.js';
import { startDiscovery, type Discovery } from '../discovery/index.js';
import { readLocalAgents, type LocalAgent } from '../discovery/local-agents.js';

export interface DoctorOptions {
  configFile: string;
  configDir: string;
  /** How long to listen for other hosts' mDNS traffic. */
  listenMs: number;
  /** Only these interfaces (names) for the multicast check. */
  interfaces?: string[];
  /** Skip the multicast check (it sends mDNS queries on the LAN). */
  noMulticast?: boolean;
  /** The data dir, where a running agent answers on its control socket. */
  dataDir?: string;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const configResult = await checkConfig(options.configFile);
  findings.push(...configResult.findings);
  findings.push(...(await checkIdentity(options.configDir)));
  const deviceId = await ownDeviceId(options.configDir);
  const config = configResult.config;

  // Discovery browses while the multicast check listens: both take about `listenMs`.
  let discovery: Discovery | undefined;
  if (!options.noMulticast && config && config.trusted.length > 0) {
    discovery = await startDiscovery({ browse: true, ...(options.interfaces ? { interfaces: options.interfaces } : {}) });
  }
  try {
    const network = await Promise.all([
      (options.dataDir === undefined ? Promise.resolve(false) : agentAnswers(options.dataDir))
        .then((agentRunning) =>
          checkAgentPort({
            port: config?.port ?? DEFAULT_PORT,
            agentRunning,
            ...(deviceId ? { deviceId } : {}),
            ...homes(config?.port ?? DEFAULT_PORT, options.dataDir),
          }),
        )
        .then((f) => [f]),
      options.noMulticast
        ? Promise.resolve([skip('multicast', 'not checked (--no-multicast)')])
        : checkMulticast(options.listenMs, options.interfaces),
      config && deviceId ? peersOf(config, options.configDir, discovery, options.listenMs) : Promise.resolve([]),
      checkSmtp(config?.smtp).then((f) => [f]),
    ]);
    for (const group of network) findings.push(...group);
  } finally {
    await discovery?.stop();
  }
  return summarize(findings);
}

async function peersOf(config: SynkerConfig, configDir: string, discovery: Discovery | undefined, waitMs: number): Promise<Finding[]> {
  if (config.trusted.length === 0) return [];
  // The identity check passed far enough to give a device ID: the files exist, nothing is created here.
  let identity;
  try {
    ({ identity } = await loadOrCreateIdentity(configDir, config.name));
  } catch (err) {
    if (err instanceof SynkerError) return []; // the identity check reports why
    throw err;
  }
  return checkPeers({ config, identity, waitMs, ...(discovery ? { discovered: discovery.candidates } : {}) });
}

/** This home's agent and another home's agent on the config's port, from this machine's registered agents. */
function homes(port: number, dataDir: string | undefined): { registeredPort?: number; otherHome?: LocalAgent } {
  if (dataDir === undefined) return {};
  const agents = readLocalAgents();
  const own = agents.find((a) => a.dataDir === path.resolve(dataDir));
  const other = agents.find((a) => a.port === port && a.dataDir !== path.resolve(dataDir));
  return { ...(own ? { registeredPort: own.port } : {}), ...(other ? { otherHome: other } : {}) };
}

async function ownDeviceId(configDir: string): Promise<string | undefined> {
  try {
    return deviceIdOfPem(await readFile(path.join(configDir, CERT_FILE), 'utf8'));
  } catch {
    // Missing or broken: the identity check has already reported why.
    return undefined;
  }
}
