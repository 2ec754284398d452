/**
 * What the agent does with a check request from its control socket: the
 * same check `synker check` runs in its own process (checkFolder), with the
 * agent's config, identity and state, looking for the source the way the
 * CLI was told to. Each run is recorded here, as one by hand (unless the
 * request says not to), before the reports go back: the CLI that asked
 * records nothing, and whoever hears of the record (the status page) finds
 * the run's last report already written.
 */
import path from 'node:path';
import { foldersToCheck } from '../check/folders.js';
import { checkFolders, type SourceSearch } from '../check/run.js';
import type { ConfigStore } from '../config/config-store.js';
import type { Identity } from '../identity/identity.js';
import { createLogger } from '../base/log.js';
import type { CheckReport } from '../report/model.js';
import { verdictToTell } from '../schedule/backup-verdicts.js';
import type { AgentState } from '../state/agent-state.js';
import type { ControlCheckRequest } from './protocol.js';
import { ControlRefusal } from './server.js';
import { recordManualRuns } from '../schedule/record.js';
import { plural } from '../base/units.js';

const log = createLogger('agent');

export interface AgentCheckContext {
  store: ConfigStore;
  identity: Identity;
  state: AgentState;
  /** Where the runs are recorded (schedule/record.ts). */
  dataDir: string;
  /** The config file the agent serves: a CLI reading another one checks by itself. */
  configPath: string;
  /** How the agent itself looks for peers (its --no-discovery, --interface): used when the CLI was told nothing. */
  search: { mdns: boolean; interfaces: readonly string[] };
}

export function agentChecks(ctx: AgentCheckContext): (request: ControlCheckRequest, signal: AbortSignal) => Promise<CheckReport[]> {
  return async (request, signal) => {
    if (path.resolve(request.configPath) !== path.resolve(ctx.configPath)) {
      throw new ControlRefusal('E_CONTROL_CONFIG', `this agent serves ${ctx.configPath}, not ${request.configPath}`);
    }
    const config = ctx.store.current();
    const folders = foldersToCheck(config, request.folder ?? undefined);
    const { mdns, interfaces, ...options } = request.options;
    // A CLI told nothing about discovery gets the check this agent's own settings give (as its schedule does).
    const search: SourceSearch =
      mdns === undefined ? { ...ctx.search, interfacesFlag: "agent's --interface" } : { mdns, interfaces: interfaces ?? [] };
    // A check run for the CLI is a person's: the source hears of it as one.
    const verdictFor = (report: CheckReport) => verdictToTell(report, 'manual-check');
    // Each run is recorded (history, last report, verification) before the agent answers, while the source is told.
    const record = request.record ? (report: CheckReport) => recordManualRuns(ctx.dataDir, [report], 'check') : undefined;
    const reports = await checkFolders(
      { config, identity: ctx.identity, state: ctx.state },
      folders,
      { ...options, signal, verdictFor, record },
      search,
    );
    for (const report of reports) {
      log.info(
        `checked "${report.folderId}" for \`synker check\` on this machine: ${report.error?.message ?? (report.complete ? 'complete' : plural(report.summary.failing, 'difference'))}`,
      );
    }
    return reports;
  };
}
