/**
 * Two devices set up through the real CLI, each with its own SYNKER_HOME: a
 * source ("laptop") sharing folder `photos` with a backup ("nas"), each
 * trusting the other, and the source's `synker agent` as a child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { writeTree } from './check-pair.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from './synker-cli.js';

export interface CliPair {
  sourceEnv: NodeJS.ProcessEnv;
  backupEnv: NodeJS.ProcessEnv;
  sourceRoot: string;
  backupRoot: string;
}

/** Both sides start with `files`; under `dir`. */
export async function configureCliPair(dir: string, files: Record<string, string>): Promise<CliPair> {
  const sourceEnv = isolatedEnv(path.join(dir, 'laptop'));
  const backupEnv = isolatedEnv(path.join(dir, 'nas'));
  const sourceRoot = path.join(dir, 'originals');
  const backupRoot = path.join(dir, 'copy');
  await writeTree(sourceRoot, files);
  await writeTree(backupRoot, files);
  const idOf = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const id = await runSynker(['id'], { env });
    assert.equal(id.code, 0, id.stderr);
    return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(id.stdout)![1]!;
  };
  const laptop = await idOf(sourceEnv);
  const nas = await idOf(backupEnv);
  for (const [env, args] of [
    [sourceEnv, ['trust', nas, '--name', 'nas']],
    [sourceEnv, ['folder', 'add', 'photos', sourceRoot, '--role', 'source', '--share', 'nas']],
    [backupEnv, ['trust', laptop, '--name', 'laptop']],
    [backupEnv, ['folder', 'add', 'photos', backupRoot, '--role', 'backup', '--share', 'laptop']],
  ] as const) {
    const r = await runSynker([...args], { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  return { sourceEnv, backupEnv, sourceRoot, backupRoot };
}

export interface CliAgent {
  process: ChildProcessWithoutNullStreams;
  port: number;
  /** Everything the agent logged so far. */
  log(): string;
}

/**
 * `synker [globalArgs] agent --port 0 --no-discovery --no-schedule`, killed when the test ends;
 * `discoveryArgs` replace `--no-discovery` (only ever with `--interface lo`: no multicast leaves the machine);
 * `portArgs` replace `--port 0` (`[]`: the config's port).
 */
export async function startCliAgent(
  t: TestContext,
  env: NodeJS.ProcessEnv,
  globalArgs: string[] = [],
  discoveryArgs: string[] = ['--no-discovery'],
  portArgs: string[] = ['--port', '0'],
): Promise<CliAgent> {
  const agent = spawn(process.execPath, [SYNKER_BIN, ...globalArgs, 'agent', ...portArgs, ...discoveryArgs, '--no-schedule'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  agent.stdin.end();
  agent.stdout.resume();
  t.after(() => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    agent.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const match = /on port (\d+)/.exec(log);
      if (match) resolve(Number(match[1]));
    });
    agent.once('exit', () => reject(new Error(`synker agent exited: ${log}`)));
  });
  return { process: agent, port, log: () => log };
}
