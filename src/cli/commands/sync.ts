/**
 * `synker sync [FOLDER]`: make the backup match the source. Runs a check,
 * then applies the plan over the same session (docs/sync.md). Prints the
 * plan (`--dry-run`) or what was done; `--json` for scripts. Exit code: 0
 * the backup matches, 1 files were skipped or failed, 2 the run could not
 * be done.
 */
import { Option, type Command } from 'commander';
import { DEFAULT_CHECK_TIMEOUT_MS, foldersToCheck } from '../../check/folders.js';
import { UsageError } from '../../base/errors.js';
import { planToJson, renderPlan, SYNC_RESULT_SCHEMA, SYNC_RESULT_VERSION } from '../../sync/plan-render.js';
import { parseMaxDelete } from '../../sync/plan-guards.js';
import { renderTerminal, shouldUseColor, verdictHeadline } from '../../report/terminal.js';
import { createProgressPrinter } from '../../sync/progress.js';
import { syncFolder, type SyncFolderResult } from '../../sync/sync-folder.js';
import { withCliContext } from '../context.js';
import { addDiscoveryOptions, locatorFor, type DiscoveryFlags } from '../discovery-flags.js';
import { addExamples } from '../help.js';
import { keepPartialsOnSignal } from '../keep-partials-on-signal.js';
import { jsonLinesPieces } from '../../report/json.js';
import { verdictOf } from '../../report/model.js';
import { writePieces } from '../write-out.js';
import { action, printError } from '../run.js';
import { durationFlag, jobsFlag } from '../flags.js';

interface SyncFlags extends DiscoveryFlags {
  peer?: string;
  dryRun?: boolean;
  delete?: boolean;
  maxDelete?: string;
  force?: boolean;
  json?: boolean;
  all?: boolean;
  timeout?: string;
  jobs?: string;
  record?: boolean;
}

export function register(program: Command): void {
  const sync = program
    .command('sync')
    .description('copy what the backup lacks from the source, verified (exit 0 in sync, 1 files skipped or failed, 2 error)')
    .argument('[folder]', 'folder ID (default: every backup folder on this machine)')
    .option('--peer <peer>', 'the source: a trusted device (name, device ID or its first group) or host:port')
    .option('--dry-run', 'print what would be done, change nothing')
    .option('--delete', 'also remove what the source no longer has (kept in .synker/versions/)')
    .option('--max-delete <n|n%>', 'stop instead of deleting more than N files or N% of the backup (default 10%, at least 10)')
    .option('--force', 'copy suspicious source changes too, and go on despite a mass change or a shrunken source')
    .option('--json', 'print the result as JSON (docs/sync.md), one line per folder')
    .option('--all', 'list every action and skipped file (long lists are cut otherwise)')
    .option('--timeout <duration>', `how long to try reaching the source (default ${DEFAULT_CHECK_TIMEOUT_MS / 1000}s)`)
    .option('--jobs <n>', 'hashing threads (default: one per core)')
    // The agent's schedule runs `synker sync --no-record` and records the run itself, as a scheduled one.
    .addOption(new Option('--no-record', 'do not record this run as the last verification (synker status)').hideHelp());
  addDiscoveryOptions(sync, 'the source');
  addExamples(sync, [
    ['synker sync photos --dry-run', 'show what a sync would copy, rename and keep'],
    ['synker sync photos', 'copy missing and changed files from the source'],
    ['synker sync photos --delete', 'also move files the source deleted into .synker/versions/'],
    ['synker sync --json', 'every backup folder, for scripts'],
  ]);
  sync.action(
    action(async (folderId: string | undefined, flags: SyncFlags, command: Command) => {
      const maxDelete = flags.maxDelete === undefined ? undefined : parseMaxDelete(flags.maxDelete);
      if (flags.maxDelete !== undefined && !flags.delete) throw new UsageError('--max-delete only applies with --delete');
      const timeoutMs = flags.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : durationFlag('--timeout', flags.timeout);
      const jobs = flags.jobs === undefined ? undefined : jobsFlag(flags.jobs);
      return withCliContext(command.optsWithGlobals(), async (ctx) => {
        const config = ctx.store.current();
        const folders = foldersToCheck(config, folderId);
        // Static peers are tried first; mDNS starts only if none of them is the source.
        const locator = await locatorFor(config.peers, flags);
        const env = { config, identity: await ctx.identity(), state: await ctx.state(), locator };
        // The source hears what each run found (as the sync left it); the schedule's child (--no-record) tells it as the schedule's.
        const { verdictToTell } = await import('../../schedule/backup-verdicts.js');
        const origin = flags.record === false ? 'scheduled' : 'manual';
        // What this run is, failed or not (a sync whose folder is absent has no sync section): a dry run changes nothing, a check.
        const run = flags.dryRun ? 'check' : 'sync';
        let worst = 0;
        const releaseSignals = keepPartialsOnSignal('sync');
        try {
          for (const folder of folders) {
            const progress = flags.json ? undefined : createProgressPrinter(process.stderr);
            const result = await syncFolder(env, folder, {
              peer: flags.peer,
              timeoutMs,
              jobs,
              dryRun: flags.dryRun ?? false,
              delete: flags.delete ?? false,
              ...(maxDelete === undefined ? {} : { maxDelete }),
              force: flags.force ?? false,
              verdictFor: (report) => verdictToTell(report, `${origin}-${run}`),
              ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
            });
            progress?.done();
            // JSON in pieces: the result of a sync of 200,000 files is tens of MB of it (report/json.ts).
            await writePieces(
              process.stdout,
              flags.json ? jsonLinesPieces([toJson(result)]) : [render(result, flags.all ?? false, shouldUseColor(process.stdout))],
            );
            // The check before the sync compared the backup with its source: a verification, as the sync left it.
            if (flags.record !== false)
              await (await import('../../schedule/record.js')).recordManualRuns(ctx.dirs.data, [result.report], run);
            if (result.error) {
              printError(result.error);
            }
            worst = Math.max(worst, result.exitCode);
          }
        } finally {
          releaseSignals();
          await locator.close();
        }
        return worst;
      });
    }),
  );
}

function render(result: SyncFolderResult, all: boolean, color: boolean): string {
  const { report, outcome } = result;
  // The check before the sync failed: nothing was compared, so no count of differences (the error follows on stderr).
  if (report.error !== null) return `${result.folderId}: not synced, the check before it could not be done\n`;
  // The verdict in the words of `check` (report/terminal.ts), then what a sync would do.
  const head = verdictHeadline(report, color);
  if (outcome?.dryRun) return `${head}\ndry run: ${renderPlan(outcome.plan, { all })}\n`;
  // A real run: the report with its sync section (what was fixed, refused, left).
  if (report.sync !== null) return renderTerminal(report, { color, all });
  return `${head}\n`;
}

function toJson(result: SyncFolderResult): object {
  return {
    schema: SYNC_RESULT_SCHEMA,
    version: SYNC_RESULT_VERSION,
    folderId: result.folderId,
    dryRun: result.outcome?.dryRun ?? false,
    exitCode: result.exitCode,
    // The state the run left (report/model.ts): `check.complete` is the answer before the sync.
    verdict: verdictOf(result.report),
    check: result.report,
    plan: result.outcome ? planToJson(result.outcome.plan) : null,
    result: result.outcome?.result ?? null,
    error: result.error ?? null,
  };
}
