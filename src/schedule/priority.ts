/**
 * Scheduled checks read every file of a backup: they should not make the
 * machine sluggish for the person using it. The check runs as a child process
 * started under `nice` (lowest CPU priority) and, on Linux, `ionice -c 3`
 * (idle I/O class), so every thread it creates inherits both from birth —
 * lowering a running process's priority on Linux affects only its main thread.
 * Where those tools are missing (Windows), the child's priority is lowered
 * through os.setPriority right after it starts.
 */
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../base/log.js';

const log = createLogger('priority');

function findExecutable(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export interface LowPriorityCommand {
  command: string;
  args: string[];
  /** True when the command itself lowers the priority (nice/ionice); else call lowerPriority(pid) after spawn. */
  wrapped: boolean;
}

/** `command args` wrapped in `ionice -c 3 nice -n 19` where those exist. */
export function lowPriorityCommand(command: string, args: string[], platform: NodeJS.Platform = process.platform): LowPriorityCommand {
  if (platform === 'win32') return { command, args, wrapped: false };
  const nice = findExecutable('nice');
  const ionice = platform === 'linux' ? findExecutable('ionice') : undefined;
  let cmd = command;
  let argv = args;
  if (nice) {
    argv = ['-n', '19', cmd, ...argv];
    cmd = nice;
  }
  if (ionice) {
    argv = ['-c', '3', cmd, ...argv];
    cmd = ionice;
  }
  return { command: cmd, args: argv, wrapped: nice !== undefined };
}

/** Best effort: lowest CPU priority for a process (its main thread on Linux). */
export function lowerPriority(pid: number): void {
  try {
    os.setPriority(pid, os.constants.priority.PRIORITY_LOW);
  } catch (err) {
    log.debug(`could not lower the priority of process ${pid}:`, err);
  }
}
