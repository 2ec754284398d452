/** Start test/programs/agent-process.ts in a child process and talk to it. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import type { AgentProcessConfig, AgentProcessStats } from '../programs/agent-process.js';

export interface ChildAgent {
  child: ChildProcess;
  port: number;
  stats(): Promise<AgentProcessStats>;
}

export async function startChildAgent(t: TestContext, config: AgentProcessConfig, execArgv: string[] = []): Promise<ChildAgent> {
  const child = fork(new URL('../programs/agent-process.js', import.meta.url), {
    env: { ...process.env, SYNKER_TEST_AGENT: JSON.stringify(config), SYNKER_LOG: 'error' },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  return {
    child,
    port: first.port,
    stats: async () => {
      child.send('stats');
      const [stats] = (await once(child, 'message')) as [AgentProcessStats];
      return stats;
    },
  };
}
