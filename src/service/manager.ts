/**
 * Running the platform's service manager (systemctl, launchctl, schtasks).
 * Failures are reported with the manager's own words and the command to run
 * by hand, never swallowed: an unregistered service looks fine until the day
 * the laptop reboots.
 */
import { execFile } from 'node:child_process';
import { SynkerError, errnoCode } from '../base/errors.js';

export class ServiceError extends SynkerError {}

export interface CommandResult {
  ok: boolean;
  /** Trimmed stderr (or stdout) of a failed command, or the spawn error. */
  output: string;
  /** The program was not found at all. */
  missing: boolean;
}

const COMMAND_TIMEOUT_MS = 30_000;

export function runCommand(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: COMMAND_TIMEOUT_MS, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, output: stdout.trim(), missing: false });
      const missing = errnoCode(err) === 'ENOENT';
      const output = (String(stderr).trim() || String(stdout).trim() || err.message).split('\n').slice(0, 3).join(' ');
      resolve({ ok: false, output: missing ? `${program} not found` : output, missing });
    });
  });
}

/** The command as a user would type it, for messages. */
export function shellLine(program: string, args: string[]): string {
  return [program, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
