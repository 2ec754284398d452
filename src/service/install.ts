/**
 * `synker service install|uninstall`: write the platform's service file and
 * register it with the service manager so the agent starts at login.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { serviceFile, type ServiceFile } from './file.js';
import { LAUNCHD_LABEL, launchdLogPath } from './launchd.js';
import { runCommand, ServiceError, shellLine } from './manager.js';
import { homeOf, type ServicePlatform, type ServiceSpec } from './spec.js';
import { SYSTEMD_UNIT_NAME } from './systemd.js';
import { WINDOWS_TASK_NAME } from './windows-task.js';
import { makeDirs } from '../base/make-dirs.js';

interface Step {
  program: string;
  args: string[];
  /** A failure here does not stop the install (e.g. unloading a service that was not loaded). */
  optional?: boolean;
}

export interface InstallResult {
  file: ServiceFile;
  /** The file existed before (an update, e.g. after moving synker). */
  replaced: boolean;
  /** Commands that ran, as typed. */
  ran: string[];
  /** How to see the agent's logs on this platform. */
  logs: string;
}

export async function installService(
  platform: ServicePlatform,
  spec: ServiceSpec,
  env: NodeJS.ProcessEnv = process.env,
): Promise<InstallResult> {
  const file = serviceFile(platform, spec, env);
  await refuseOtherHome(file, 'install');
  // launchd does not create the log folder; without it the agent cannot start.
  if (platform === 'darwin') await makeDirs(path.dirname(launchdLogPath(homeOf(env))));
  const replaced = await writeAtomically(file);
  const ran: string[] = [];
  for (const step of installSteps(platform, file)) {
    await runStep(step, env, file, 'install', ran);
  }
  return { file, replaced, ran, logs: logHint(platform, env) };
}

export interface UninstallResult {
  file: ServiceFile;
  /** False when there was nothing to remove. */
  removed: boolean;
  ran: string[];
  /** Manager commands that failed (the file is removed anyway). */
  warnings: string[];
}

export async function uninstallService(
  platform: ServicePlatform,
  spec: ServiceSpec,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UninstallResult> {
  const file = serviceFile(platform, spec, env);
  await refuseOtherHome(file, 'uninstall');
  const ran: string[] = [];
  const warnings: string[] = [];
  const existed = await exists(file.path);
  if (existed) {
    for (const step of uninstallSteps(platform)) {
      const result = await runCommand(step.program, step.args, env);
      ran.push(shellLine(step.program, step.args));
      if (!result.ok && !step.optional) warnings.push(`${shellLine(step.program, step.args)}: ${result.output}`);
    }
    await rm(file.path, { force: true });
    if (platform === 'linux') {
      // Let systemd forget the unit; harmless when the user manager is not reachable.
      const reload = await runCommand('systemctl', ['--user', 'daemon-reload'], env);
      ran.push('systemctl --user daemon-reload');
      if (!reload.ok && !reload.missing) warnings.push(`systemctl --user daemon-reload: ${reload.output}`);
    }
  }
  return { file, removed: existed, ran, warnings };
}

function installSteps(platform: ServicePlatform, file: ServiceFile): Step[] {
  switch (platform) {
    case 'linux':
      return [
        { program: 'systemctl', args: ['--user', 'daemon-reload'] },
        // restart, not start: an update must run the new command line.
        { program: 'systemctl', args: ['--user', 'enable', SYSTEMD_UNIT_NAME] },
        { program: 'systemctl', args: ['--user', 'restart', SYSTEMD_UNIT_NAME] },
      ];
    case 'darwin': {
      const domain = `gui/${os.userInfo().uid}`;
      return [
        { program: 'launchctl', args: ['bootout', `${domain}/${LAUNCHD_LABEL}`], optional: true },
        { program: 'launchctl', args: ['bootstrap', domain, file.path] },
      ];
    }
    case 'win32':
      return [
        { program: 'schtasks', args: ['/Create', '/TN', WINDOWS_TASK_NAME, '/XML', file.path, '/F'] },
        { program: 'schtasks', args: ['/Run', '/TN', WINDOWS_TASK_NAME] },
      ];
  }
}

function uninstallSteps(platform: ServicePlatform): Step[] {
  switch (platform) {
    case 'linux':
      return [{ program: 'systemctl', args: ['--user', 'disable', '--now', SYSTEMD_UNIT_NAME] }];
    case 'darwin':
      return [{ program: 'launchctl', args: ['bootout', `gui/${os.userInfo().uid}/${LAUNCHD_LABEL}`], optional: true }];
    case 'win32':
      return [
        { program: 'schtasks', args: ['/End', '/TN', WINDOWS_TASK_NAME], optional: true },
        { program: 'schtasks', args: ['/Delete', '/TN', WINDOWS_TASK_NAME, '/F'] },
      ];
  }
}

async function runStep(step: Step, env: NodeJS.ProcessEnv, file: ServiceFile, verb: string, ran: string[]): Promise<void> {
  const line = shellLine(step.program, step.args);
  const result = await runCommand(step.program, step.args, env);
  ran.push(line);
  if (result.ok || step.optional) return;
  const remaining = installSteps(file.platform, file)
    .filter((s) => !s.optional)
    .map((s) => shellLine(s.program, s.args))
    .join(' && ');
  if (result.missing) {
    throw new ServiceError(
      'E_SERVICE_MANAGER_MISSING',
      `wrote ${file.path}, but ${step.program} was not found, so the agent will not start at login`,
      {
        hint: `On a system without ${step.program}, start \`synker agent\` from your session's autostart instead; the file shows the command line to use.`,
      },
    );
  }
  const why =
    file.platform === 'linux' && /bus|XDG_RUNTIME_DIR|Failed to connect/i.test(result.output)
      ? " systemd's user manager is not reachable from this shell (no login session: sudo, su, ssh without lingering, or a container)."
      : '';
  throw new ServiceError('E_SERVICE_MANAGER_FAILED', `wrote ${file.path}, but \`${line}\` failed during ${verb}: ${result.output}.${why}`, {
    hint: `Run it from a normal login session: ${remaining}${file.platform === 'linux' ? ' (and `loginctl enable-linger $USER` to start it at boot rather than at login)' : ''}.`,
  });
}

function logHint(platform: ServicePlatform, env: NodeJS.ProcessEnv): string {
  switch (platform) {
    case 'linux':
      return `journalctl --user -u ${SYSTEMD_UNIT_NAME} -f`;
    case 'darwin':
      return `tail -f '${launchdLogPath(homeOf(env))}'`;
    case 'win32':
      return `schtasks /Query /TN "${WINDOWS_TASK_NAME}" /V /FO LIST`;
  }
}

/** Write via a temporary file so a crash never leaves a half-written unit for the manager to choke on. */
/**
 * The SYNKER_HOME a service file starts the agent with, as written in it (escaped the platform's way),
 * or null when it sets none (the default home). Files of every platform: a systemd `Environment=` line,
 * a launchd `EnvironmentVariables` entry, the Windows task's `set "SYNKER_HOME=…"`.
 */
export function serviceFileHome(bytes: Buffer): string | null {
  const text = bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8');
  const plist = /<key>SYNKER_HOME<\/key>\s*<string>([^<]*)<\/string>/.exec(text);
  if (plist) return plist[1]!;
  const line = /SYNKER_HOME=((?:\\.|[^"\r\n])*)/.exec(text);
  return line ? line[1]! : null;
}

/**
 * One login service per user: installing it for one home replaces the one another home installed,
 * whose agent would then silently no longer start. Refused, naming that home (docs/errors.md).
 */
async function refuseOtherHome(file: ServiceFile, what: 'install' | 'uninstall'): Promise<void> {
  let existing: Buffer;
  try {
    existing = await readFile(file.path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  const theirs = serviceFileHome(existing);
  const ours = serviceFileHome(file.bytes);
  if (theirs === ours) return;
  const home = (h: string | null): string => (h === null ? 'the default home (no SYNKER_HOME)' : `SYNKER_HOME=${h}`);
  throw new ServiceError(
    'E_SERVICE_OTHER_HOME',
    `${file.path} starts the agent of another home, ${home(theirs)}, not this one (${home(ours)}): ${what === 'install' ? 'installing would replace it' : 'uninstalling would remove it'}, and that agent would no longer start at login`,
    {
      hint:
        "The login service starts one home per user. Keep it, and start this home's agent yourself (SYNKER_HOME=… synker agent, e.g. from your autostart); " +
        'or run `synker service uninstall` with that home first.',
    },
  );
}

async function writeAtomically(file: ServiceFile): Promise<boolean> {
  const existed = await exists(file.path);
  await makeDirs(path.dirname(file.path));
  const tmp = `${file.path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, file.bytes, { mode: 0o644 });
    await rename(tmp, file.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ServiceError('E_SERVICE_WRITE', `cannot write ${file.path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Check that the folder belongs to you and the disk is not full.',
    });
  }
  return existed;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
