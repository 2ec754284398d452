/**
 * Two devices set up through the real CLI, each with its own SYNKER_HOME: a
 * source ("laptop") sharing folder `photos` with a backup ("nas"), each
 * trusting the other (or the two devices alone, for folders of a test's own),
 * and `synker agent` as a child process: a peer alone, or with its status page.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
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

export interface CliDevices {
  sourceEnv: NodeJS.ProcessEnv;
  backupEnv: NodeJS.ProcessEnv;
}

export interface CliDeviceOptions {
  /**
   * One XDG_RUNTIME_DIR (`dir`/run) for both homes: the backup's checks find the source's agent on this
   * machine, no network discovery.
   */
  sharedRuntime?: boolean;
}

/** `synker args…` in `env`, which must succeed (its output in the message when it does not). */
export async function synkerOk(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<void> {
  const r = await runSynker([...args], { env });
  assert.equal(r.code, 0, `synker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** The device ID `synker id` prints in `env` (made on first use). */
export async function deviceId(env: NodeJS.ProcessEnv): Promise<string> {
  const id = await runSynker(['id'], { env });
  assert.equal(id.code, 0, id.stderr);
  return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(id.stdout)![1]!;
}

/** Two homes under `dir`, the source "laptop" and the backup "nas", each trusting the other. */
export async function configureCliDevices(dir: string, options: CliDeviceOptions = {}): Promise<CliDevices> {
  const runtime = options.sharedRuntime ? { XDG_RUNTIME_DIR: path.join(dir, 'run') } : {};
  const sourceEnv = isolatedEnv(path.join(dir, 'laptop'), runtime);
  const backupEnv = isolatedEnv(path.join(dir, 'nas'), runtime);
  const laptop = await deviceId(sourceEnv);
  const nas = await deviceId(backupEnv);
  await synkerOk(sourceEnv, ['trust', nas, '--name', 'nas']);
  await synkerOk(backupEnv, ['trust', laptop, '--name', 'laptop']);
  return { sourceEnv, backupEnv };
}

/** Folder `id`: `sourceRoot` on the source shared with the backup, `backupRoot` its backup there. */
export async function addCliFolder(devices: CliDevices, id: string, sourceRoot: string, backupRoot: string): Promise<void> {
  await synkerOk(devices.sourceEnv, ['folder', 'add', id, sourceRoot, '--role', 'source', '--share', 'nas']);
  await synkerOk(devices.backupEnv, ['folder', 'add', id, backupRoot, '--role', 'backup', '--share', 'laptop']);
}

/** Both sides start with `files` (the backup with `backupFiles` when given); under `dir`. */
export async function configureCliPair(
  dir: string,
  files: Record<string, string>,
  options: CliDeviceOptions & { backupFiles?: Record<string, string> } = {},
): Promise<CliPair> {
  const devices = await configureCliDevices(dir, options);
  const sourceRoot = path.join(dir, 'originals');
  const backupRoot = path.join(dir, 'copy');
  await writeTree(sourceRoot, files);
  await writeTree(backupRoot, options.backupFiles ?? files);
  await addCliFolder(devices, 'photos', sourceRoot, backupRoot);
  return { ...devices, sourceRoot, backupRoot };
}

/**
 * The backup's schedule on (so "check now" can run) with its own slot once a year, and its name "nas":
 * every check is the test's.
 */
export async function scheduleBackupYearly(dir: string): Promise<void> {
  const configFile = path.join(dir, 'nas', 'synker', 'config', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  await writeFile(
    configFile,
    JSON.stringify({ ...config, name: 'nas', schedule: { check: '0 0 1 1 *', timezone: 'UTC', email: 'never' } }, null, 2),
  );
}

export interface CliAgent {
  process: ChildProcessWithoutNullStreams;
  port: number;
  /** Everything the agent logged so far. */
  log(): string;
}

/** `synker argv…` as a child, killed when the test ends, once its log (stderr) matches `ready`. */
async function spawnAgent(
  t: TestContext,
  env: NodeJS.ProcessEnv,
  argv: string[],
  ready: RegExp,
): Promise<{ process: ChildProcessWithoutNullStreams; ready: RegExpExecArray; log(): string }> {
  const agent = spawn(process.execPath, [SYNKER_BIN, ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  agent.stdin.end();
  agent.stdout.resume();
  t.after(() => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
  });
  let log = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    agent.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const found = ready.exec(log);
      if (found) resolve(found);
    });
    agent.once('exit', () => reject(new Error(`synker agent exited: ${log}`)));
  });
  return { process: agent, ready: match, log: () => log };
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
  const agent = await spawnAgent(t, env, [...globalArgs, 'agent', ...portArgs, ...discoveryArgs, '--no-schedule'], /on port (\d+)/);
  return { process: agent.process, port: Number(agent.ready[1]), log: agent.log };
}

export interface WebAgent {
  process: ChildProcessWithoutNullStreams;
  /** The status page's address, as the agent logged it (ending in `/`). */
  url: string;
  /** The status page's port. */
  port: number;
  /** Everything the agent logged so far. */
  log(): string;
}

/**
 * `synker agent --listen 127.0.0.1 --port 0 --no-discovery --web-port <webPort> [extra]` with its schedule
 * (unless `extra` says `--no-schedule`) and its status page (`webPort` 0, the default: a free port), killed when
 * the test ends; ready once it logs the page's address.
 */
export async function startWebAgent(
  t: TestContext,
  env: NodeJS.ProcessEnv,
  options: { webPort?: number; extra?: string[] } = {},
): Promise<WebAgent> {
  const argv = ['agent', '--listen', '127.0.0.1', '--port', '0', '--no-discovery', '--web-port', String(options.webPort ?? 0)];
  const agent = await spawnAgent(t, env, [...argv, ...(options.extra ?? [])], /status page: (http:\/\/[^\s/]+\/)/);
  const url = agent.ready[1]!;
  return { process: agent.process, url, port: Number(new URL(url).port), log: agent.log };
}

/** Ends an agent with SIGTERM (as a service manager would) and waits for it to exit. */
export async function stopAgent(agent: { process: ChildProcessWithoutNullStreams }): Promise<void> {
  const exited = new Promise((resolve) => agent.process.once('exit', resolve));
  agent.process.kill('SIGTERM');
  await exited;
}
