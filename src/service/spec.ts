/**
 * What a service definition starts: this Node.js binary running this copy of
 * synker's CLI as `synker agent`, with the environment that decides where the
 * agent finds its files. Every platform's file (systemd unit, launchd plist,
 * Scheduled Task) is rendered from this one description.
 */
import { lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../base/errors.js';
import { realPathSync } from '../base/real-path.js';

export type ServicePlatform = 'linux' | 'darwin' | 'win32';

export interface ServiceSpec {
  /** argv of the agent: [node, synker.js, 'agent', ...]; absolute paths. */
  argv: string[];
  /** Environment the agent must see (SYNKER_HOME when set, so it finds the same files). */
  env: Record<string, string>;
  /** Folder the agent starts in (the user's home). */
  workingDirectory: string;
  /** The login name, for the Windows task's principal. */
  user: string;
}

/** The launcher next to the compiled CLI: dist/src/service/spec.js -> bin/synker.js. */
export function synkerLauncherPath(): string {
  return fileURLToPath(new URL('../../../bin/synker.js', import.meta.url));
}

export interface AgentSpecOptions {
  /** Passed on as `synker agent --config FILE` (made absolute). */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  nodePath?: string;
  launcherPath?: string;
}

export function agentServiceSpec(options: AgentSpecOptions = {}): ServiceSpec {
  const env = options.env ?? process.env;
  const argv = [options.nodePath ?? stableNodePath(process.execPath, env.PATH), options.launcherPath ?? synkerLauncherPath(), 'agent'];
  if (options.configFile) argv.push('--config', path.resolve(options.configFile));
  const serviceEnv: Record<string, string> = {};
  if (env.SYNKER_HOME) serviceEnv.SYNKER_HOME = path.resolve(env.SYNKER_HOME);
  return {
    argv,
    env: serviceEnv,
    workingDirectory: homeOf(env),
    user: env.USER ?? env.USERNAME ?? safeUserName(),
  };
}

/**
 * The path a service should start node by. process.execPath is the resolved
 * binary, which a package manager replaces on upgrade: Homebrew's
 * /opt/homebrew/Cellar/node/24.1.0/bin/node is gone after `brew upgrade`,
 * while /opt/homebrew/bin/node, the link on PATH, follows it. So: the first
 * `node` on PATH that is a link to this same binary, else this binary's own
 * path (a folder link such as /bin -> /usr/bin is no reason to change it).
 */
export function stableNodePath(execPath: string, envPath: string | undefined, platform: NodeJS.Platform = process.platform): string {
  const real = realOrUndefined(execPath);
  if (real === undefined || envPath === undefined) return execPath;
  const name = platform === 'win32' ? 'node.exe' : 'node';
  const p = platform === 'win32' ? path.win32 : path.posix;
  for (const dir of envPath.split(platform === 'win32' ? ';' : ':')) {
    if (!p.isAbsolute(dir)) continue; // a relative PATH entry means nothing to a service
    const candidate = p.join(dir, name);
    if (isLink(candidate) && realOrUndefined(candidate) === real) return candidate;
  }
  return execPath;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function realOrUndefined(file: string): string | undefined {
  try {
    return realPathSync(file);
  } catch {
    return undefined;
  }
}

export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME ?? env.USERPROFILE ?? os.homedir();
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers): the name is only used in the Windows task.
    return 'user';
  }
}

/** Accepts the words people use: linux/systemd, macos/darwin/launchd, windows/win32/schtasks. */
export function parseServicePlatform(word: string): ServicePlatform {
  switch (word.trim().toLowerCase()) {
    case 'linux':
    case 'systemd':
      return 'linux';
    case 'macos':
    case 'darwin':
    case 'launchd':
    case 'mac':
      return 'darwin';
    case 'windows':
    case 'win32':
    case 'schtasks':
      return 'win32';
    default:
      throw new UsageError(`unknown platform "${word}"`, 'Use linux, macos or windows.');
  }
}

export function currentServicePlatform(platform: NodeJS.Platform = process.platform): ServicePlatform {
  if (platform === 'darwin' || platform === 'win32') return platform;
  // Every other Unix synker runs on here (Linux, and BSDs with systemd-less setups) gets the systemd
  // unit; `service install` reports clearly when systemctl is not there.
  return 'linux';
}
