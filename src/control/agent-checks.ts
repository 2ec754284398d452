/**
 * What the agent does with a check request from its control socket: the
 * same check `synker check` runs in its own process (checkFolder), with the
 * agent's config, identity and state, looking for the source the way the
 * CLI was told to.
 */
import path from 'node:path';
import { foldersToCheck } from '../check/folders.js';
import { checkFolder } from '../check/run.js';
import type { ConfigStore } from '../config/config-store.js';
import type { Identity } from '../config/identity.js';
import { DiscoveryLocator } from '../discovery/locator.js';
import { createLogger } from '../log.js';
import type { CheckReport } from '../report/model.js';
import type { AgentState } from '../state/agent-state.js';
import type { ControlCheckRequest } from './protocol.js';
import { ControlRefusal } from './server.js';

const log = createLogger('agent');

export interface AgentCheckContext {
  store: ConfigStore;
  identity: Identity;
  state: AgentState;
  /** The config file the agent serves: a CLI reading another one checks by itself. */
  configPath: string;
}

export function agentChecks(ctx: AgentCheckContext): (request: ControlCheckRequest, signal: AbortSignal) => Promise<CheckReport[]> {
  return async (request, signal) => {
    if (path.resolve(request.configPath) !== path.resolve(ctx.configPath)) {
      throw new ControlRefusal('E_CONTROL_CONFIG', `this agent serves ${ctx.configPath}, not ${request.configPath}`);
    }
    const config = ctx.store.current();
    const folders = foldersToCheck(config, request.folder ?? undefined);
    const { mdns, interfaces, ...options } = request.options;
    const locator = new DiscoveryLocator({ staticPeers: config.peers, mdns, interfaces });
    try {
      const env = { config, identity: ctx.identity, state: ctx.state, locator };
      const reports: CheckReport[] = [];
      for (const folder of folders) {
        const report = await checkFolder(env, folder, { ...options, signal });
        log.info(`checked "${folder.id}" for \`synker check\` on this machine: ${report.error?.message ?? (report.complete ? 'complete' : `${report.summary.failing} difference(s)`)}`);
        reports.push(report);
      }
      return reports;
    } finally {
      await locator.close();
    }
  };
}
