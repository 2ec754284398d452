/**
 * One agent per home: the agent holds a lock on its data directory for as
 * long as it runs (released by the system when it dies, even by SIGKILL), so
 * a second agent on the same home refuses to start and names the first
 * instead of serving the same folders, state and control socket twice.
 */
import path from 'node:path';
import { SynkerError } from '../base/errors.js';
import { realPath } from '../base/real-path.js';
import { acquireLock, LockBusyError, type HeldLock } from '../state/lock.js';

export class AgentRunningError extends SynkerError {
  constructor(
    /** The data directory both agents would use. */
    readonly dataDir: string,
    /** The process of the agent already running, when it said. */
    readonly pid: number | undefined,
    readonly since: string | undefined,
  ) {
    super(
      'E_AGENT_RUNNING',
      `another synker agent already runs on this home (${dataDir})${pid === undefined ? '' : `: process ${pid}, since ${since ?? '?'}`}`,
      {
        hint:
          `One agent serves one home. Stop that one first${pid === undefined ? '' : ` (kill ${pid})`}, or keep it: it already serves this config. ` +
          'A second device on this machine needs its own home: SYNKER_HOME=DIR synker init, then SYNKER_HOME=DIR synker agent.',
      },
    );
  }
}

/** Takes the home's agent lock, or throws AgentRunningError naming the agent that holds it. */
export async function holdAgentLock(dataDir: string): Promise<HeldLock> {
  // The real path: the same home reached through a symlink (SYNKER_HOME=~/link) is still the same home.
  const dir = await realPath(path.resolve(dataDir)).catch(() => path.resolve(dataDir));
  try {
    return await acquireLock(`${dir}\0agent`, { purpose: 'agent', description: `the agent of ${dir}` });
  } catch (err) {
    if (err instanceof LockBusyError) throw new AgentRunningError(dir, err.holder?.pid, err.holder?.since);
    throw err;
  }
}
