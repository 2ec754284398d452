/**
 * Runs a scheduled check as a child process, `synker check FOLDER --json`
 * (or `synker sync FOLDER --json` for a folder whose config says `sync:
 * true`), at the lowest CPU and I/O priority (priority.ts), and reads its
 * report (the documented JSON schema; a sync's report carries its `sync`
 * section) from stdout. A separate process keeps a check's
 * hashing threads and memory out of the agent, which must stay responsive to
 * its peers, and lets every one of those threads start at low priority.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { differencePhrase } from '../mail/subject.js';
import { syncPhrase } from '../mail/sync-email.js';
import { failingAfterSync, type CheckReport } from '../report/model.js';
import { lowPriorityCommand, lowerPriority } from './priority.js';
import type { CheckRun } from './scheduler.js';
import type { CheckResultSummary, VerifiedBy } from './state.js';
import { formatDuration } from '../base/units.js';

const log = createLogger('schedule');

/** bin/synker.js, next to the compiled dist/ tree. */
export const SYNKER_BIN = fileURLToPath(new URL('../../../bin/synker.js', import.meta.url));

export interface CheckProcessOptions {
  /** `check` (default), or `sync`: check, then fix what differs. */
  command?: 'check' | 'sync';
  /** `--config FILE` for the child, when the agent was started with one. */
  configPath?: string;
  /** Extra arguments for `synker check` (e.g. `--timeout 30s`). */
  extraArgs?: string[];
  /** Node binary and CLI entry (tests point these elsewhere). */
  node?: string;
  bin?: string;
  env?: NodeJS.ProcessEnv;
  /** Stop a check that runs longer than this (ms; default 12 h). */
  maxRunMs?: number;
}

export class CheckProcessError extends SynkerError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('E_CHECK_PROCESS', message, { hint, cause });
  }
}

/**
 * The one-line summary the state and `synker status` keep of a report; `by`
 * says who ran it (the schedule or a person) and what: a check, or a sync
 * (whether it got as far as syncing or not: a sync that failed before it
 * started has no `sync` section, and is still a sync). Given by the caller,
 * who knows what it ran; a dry run is a check (it changed nothing).
 */
export function summarizeReport(report: CheckReport, by: VerifiedBy): CheckResultSummary {
  const at = report.finishedAt;
  if (report.error) {
    const error = {
      code: report.error.code,
      message: report.error.message,
      ...(report.error.hint !== null ? { hint: report.error.hint } : {}),
    };
    return { status: 'error', at, summary: report.error.message, error, ...(report.source.name ? { peer: report.source.name } : {}), by };
  }
  const sync = report.sync;
  if (sync !== null && !sync.dryRun) {
    // The backup was verified; what counts is how it stands after the sync.
    const f = sync.fixed;
    return {
      status: sync.complete ? 'complete' : 'differences',
      at,
      summary: syncPhrase(report, sync),
      // Extras kept without --delete do not make the backup incomplete (sync.complete): not counted here either.
      differences: failingAfterSync(sync).failing,
      bytesMissing: failingAfterSync(sync).failingBytes,
      fixed: f.pulledFiles + f.moved + f.created + f.metadataFixed + f.deleted + (f.emptiedFolders ?? 0),
      ...(report.source.name ? { peer: report.source.name } : {}),
      by,
    };
  }
  return {
    status: report.complete ? 'complete' : 'differences',
    at,
    summary: report.complete ? 'complete' : differencePhrase(report),
    differences: report.summary.failing,
    bytesMissing: report.summary.failingBytes,
    ...(report.source.name ? { peer: report.source.name } : {}),
    by,
  };
}

export function runCheckProcess(folderId: string, options: CheckProcessOptions = {}): Promise<CheckRun<CheckReport>> {
  const what = options.command ?? 'check';
  // A scheduled check runs in this low-priority process, not in the agent that started it.
  const args = [
    options.bin ?? SYNKER_BIN,
    what,
    folderId,
    '--json',
    ...(what === 'check' ? ['--no-agent'] : []),
    // The schedule records this run itself, as a scheduled one (scheduler.ts): the child must not record it as run by hand.
    '--no-record',
    ...(options.configPath ? ['--config', options.configPath] : []),
    ...(options.extraArgs ?? []),
  ];
  const { command, args: argv, wrapped } = lowPriorityCommand(options.node ?? process.execPath, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    if (!wrapped && child.pid !== undefined) lowerPriority(child.pid);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: a long check may log a lot.
      err = (err + chunk.toString()).slice(-8192);
    });
    const timer = setTimeout(() => {
      log.warn(`the ${what} of ${folderId} ran longer than ${formatDuration(options.maxRunMs ?? 43_200_000)}; stopping it`);
      child.kill('SIGTERM');
    }, options.maxRunMs ?? 43_200_000);
    timer.unref();
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new CheckProcessError(
          `cannot start the ${what} of ${folderId}: ${e.message}`,
          `Reinstall synker; the agent runs \`synker ${what}\` for scheduled runs.`,
          e,
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8').trim();
      const line = text.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        try {
          const parsed = JSON.parse(line) as CheckReport | { schema: 'synker/sync-result'; check: CheckReport };
          // `synker sync --json` wraps the check report (with its sync section) in its own result.
          const report = parsed.schema === 'synker/sync-result' ? parsed.check : parsed;
          if (report.folderId === folderId) {
            resolve({ summary: summarizeReport(report, `scheduled-${what}`), report });
            return;
          }
        } catch {
          // fall through: reported below with what the process said
        }
      }
      const said = /^error: (.*)$/m.exec(err)?.[1] ?? err.trim().split('\n').pop() ?? '';
      const hint = /^hint: (.*)$/m.exec(err)?.[1];
      reject(
        new CheckProcessError(
          `the ${what} of ${folderId} ended without a report (${signal ? `signal ${signal}` : `exit code ${code}`})${said ? `: ${said}` : ''}`,
          hint ?? `Run synker ${what} ${folderId} by hand to see what goes wrong.`,
        ),
      );
    });
  });
}
