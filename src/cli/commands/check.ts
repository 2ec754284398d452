/**
 * `synker check [FOLDER]`: is the backup complete? Compares each backup
 * folder (or the one named) with its source and prints the report: for a
 * person on stdout, or as JSON (`--json`, schema in docs/report-schema.md).
 * Exit code: 0 complete, 1 differences, 2 the check could not be done.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { writeFileAtomic } from '../../base/atomic-file.js';
import { foldersToCheck, DEFAULT_CHECK_TIMEOUT_MS } from '../../check/folders.js';
import { checkThroughAgent } from '../../control/client.js';
import { CONTROL_VERSION, type RequestedCheckOptions } from '../../control/protocol.js';
import { SynkerError, UsageError, errnoCode } from '../../base/errors.js';
import { printablePath } from '../../base/printable.js';
import { DEFAULT_PORT } from '../../config/defaults.js';
import { CHECK_EXIT, type CheckReport } from '../../report/model.js';
import { jsonLinesPieces } from '../../report/json.js';
import { renderTerminal, shouldUseColor } from '../../report/terminal.js';
import { withCliContext } from '../context.js';
import { addDiscoveryOptions, type DiscoveryFlags } from '../discovery-flags.js';
import { addExamples } from '../help.js';
import { action, printError } from '../run.js';
import { durationFlag, jobsFlag } from '../flags.js';
import { writePieces } from '../write-out.js';

export class OutputError extends SynkerError {}

interface CheckFlags extends DiscoveryFlags {
  peer?: string;
  json?: boolean;
  output?: string;
  verify?: boolean;
  sizeOnly?: boolean;
  all?: boolean;
  timeout?: string;
  mtimeTolerance?: string;
  jobs?: string;
  email?: boolean;
  agent?: boolean;
  record?: boolean;
}

export function register(program: Command): void {
  const check = program
    .command('check')
    .description('compare backup folders with their source and report what differs (exit 0 complete, 1 differences, 2 error)')
    .argument('[folder]', 'folder ID (default: every backup folder on this machine)')
    .option('--peer <peer>', 'the source: a trusted device (name, device ID or its first group) or host:port')
    .option('--json', 'print the report as JSON (docs/report-schema.md), one line per folder')
    .option('--output <file>', 'write the report to FILE instead of stdout')
    .option('--verify', 're-hash every file on both sides, ignoring the hash caches (finds bit rot, and on which side)')
    .option('--size-only', 'compare sizes, hashing nothing on either side: fast, but weaker (misses edits that keep the size)')
    .option('--all', 'list every difference (long lists are cut otherwise)')
    .option('--timeout <duration>', `how long to try reaching the source (e.g. 30s; default ${DEFAULT_CHECK_TIMEOUT_MS / 1000}s)`)
    .option('--mtime-tolerance <duration>', 'modification times this close count as equal (default: auto, 2s on FAT-like disks)')
    .option('--jobs <n>', 'hashing threads (default: one per core)');
  addDiscoveryOptions(check, 'the source')
    .option('--email', 'e-mail the report (smtp settings in the config, docs/email.md); if sending fails it waits in the outbox')
    .option(
      '--no-agent',
      "check in this process even when this machine's agent runs (by default the agent does it: its code and scan thread are warm)",
    )
    // The agent's schedule runs `synker check --no-record` and records the run itself, as a scheduled one.
    .addOption(new Option('--no-record', 'do not record this check as the last verification (synker status)').hideHelp());
  addExamples(check, [
    ['synker check', 'check every backup folder on this machine'],
    [`synker check photos --peer 192.168.1.20:${DEFAULT_PORT}`, 'reach the source at a fixed address'],
    ['synker check photos --json --output report.json', 'for scripts'],
    ['synker check photos --verify', 're-read every file (slow; finds silent corruption)'],
    ['synker check photos --email', 'mail the report to smtp.to'],
  ]);
  check.action(
    action(async (folderId: string | undefined, flags: CheckFlags, command: Command) => {
      if (flags.verify && flags.sizeOnly) throw new UsageError('--verify and --size-only contradict each other', 'use one of them');
      // Before the check, which may take long: a report with nowhere to go would be lost after it.
      const outputFile = flags.output === undefined ? undefined : await checkOutputFile(flags.output);
      const options: RequestedCheckOptions = {
        peer: flags.peer,
        verify: flags.verify ?? false,
        sizeOnly: flags.sizeOnly ?? false,
        timeoutMs: flags.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : durationFlag('--timeout', flags.timeout),
        mtimeToleranceMs:
          flags.mtimeTolerance === undefined || flags.mtimeTolerance === 'auto'
            ? 'auto'
            : durationFlag('--mtime-tolerance', flags.mtimeTolerance, true),
        jobs: flags.jobs === undefined ? undefined : jobsFlag(flags.jobs),
      };
      return withCliContext(command.optsWithGlobals(), async (ctx) => {
        const config = ctx.store.current();
        const folders = foldersToCheck(config, folderId);
        // The mail stack is loaded only for --email: start-up time counts in every check.
        const email = flags.email ? await import('../email-reports.js') : undefined;
        const mailer = email?.reportMailerFor(config, ctx.dirs.data);
        const mdns = flags.discovery !== false;
        const interfaces = flags.interface ?? [];
        const byAgent =
          flags.agent === false
            ? undefined
            : await checkThroughAgent(ctx.dirs.data, {
                version: CONTROL_VERSION,
                command: 'check',
                configPath: ctx.configPath,
                folder: folderId ?? null,
                // The agent records the runs it does (before it answers), as runs by hand.
                record: flags.record !== false,
                // Told nothing about discovery: the agent looks the way it was started to (its --interface, --no-discovery).
                options: flags.discovery === false || flags.interface !== undefined ? { ...options, mdns, interfaces } : options,
              });
        // The check's modules are loaded only here: a check the agent does needs none of them in the CLI.
        const reports =
          byAgent ??
          (await (async () => {
            const { checkFolders } = await import('../../check/run.js');
            // One folder: no later scan in this process needs its thread, which then ends with its scan (not at exit).
            if (folders.length === 1) (await import('../../scan/index.js')).keepIdleScanThreads(0);
            const { verdictToTell } = await import('../../schedule/backup-verdicts.js');
            // The source hears what this check found; the schedule's child (--no-record) tells it as the schedule's.
            const origin = flags.record === false ? 'scheduled' : 'manual';
            const verdictFor = (report: CheckReport) => verdictToTell(report, `${origin}-check`);
            // Every check that compared the backup with its source is a verification: `synker status` shows it.
            // Recorded (history, last report too) while the source is told: each waits on its own disk, at once.
            const { recordManualRuns } = await import('../../schedule/record.js');
            const record = flags.record === false ? undefined : (report: CheckReport) => recordManualRuns(ctx.dirs.data, [report], 'check');
            return checkFolders(
              { config, identity: await ctx.identity(), state: await ctx.state() },
              folders,
              { ...options, verdictFor, record },
              { mdns, interfaces },
            );
          })());
        // A report that cannot be written is still mailed; the write error is reported after.
        const written = await output(reports, flags, outputFile).then(
          () => undefined,
          (err: unknown) => err,
        );
        // The runs are recorded already: by the agent that did them, or in checkFolders above.
        if (email !== undefined && mailer !== undefined) await email.emailReports(mailer, reports);
        if (written !== undefined) throw written;
        for (const report of reports) {
          if (report.error === null) continue;
          printError(report.error);
        }
        return reports.reduce((code, r) => Math.max(code, r.exitCode), 0);
      });
    }),
  );
}

async function output(reports: CheckReport[], flags: CheckFlags, outputFile: string | undefined): Promise<void> {
  const toFile = outputFile !== undefined;
  // JSON in pieces: a report of 200,000 differences is ~46 MB of it (report/json.ts).
  const text = flags.json
    ? jsonLinesPieces(reports)
    : reports
        .filter((r) => r.exitCode !== CHECK_EXIT.error || reports.length > 1 || toFile)
        .map((r) => renderTerminal(r, { color: !toFile && shouldUseColor(process.stdout), all: flags.all ?? false }))
        .join('\n');
  if (outputFile === undefined) {
    await writePieces(process.stdout, typeof text === 'string' ? [text] : text);
    return;
  }
  try {
    await writeFileAtomic(outputFile, text, { mode: 0o644, makeDir: false });
  } catch (err) {
    throw new OutputError('E_OUTPUT_WRITE', `cannot write the report to ${outputFile}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Check that its folder still exists and is writable by this user, and that the disk is not full.',
    });
  }
}

/** `--output FILE` as an absolute path: a file (new, or one to replace) in a folder that exists. */
async function checkOutputFile(raw: string): Promise<string> {
  if (raw.trim() === '')
    throw new UsageError('--output needs a file name', 'e.g. --output report.txt, or leave it out to print the report.');
  const file = path.resolve(raw);
  const shown = printablePath(raw); // on one line in the message, whatever the name holds
  const target = await stat(file).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new UsageError(`--output ${shown}: ${(err as Error).message}`, 'Name a file this user can write.');
  });
  if (target?.isDirectory())
    throw new UsageError(
      `--output ${shown} is a directory`,
      `Name a file in it, e.g. --output ${printablePath(path.join(raw, 'report.txt'))}.`,
    );
  // Writing replaces the file by a rename: a device or pipe (/dev/null) would itself be replaced.
  if (target !== undefined && !target.isFile())
    throw new UsageError(
      `--output ${shown} is not a regular file`,
      'Leave --output out to print the report (and redirect it), or name a regular file.',
    );
  const dir = path.dirname(file);
  const parent = await stat(dir).catch(() => undefined);
  if (parent === undefined || !parent.isDirectory()) {
    throw new UsageError(
      `--output ${shown}: ${parent === undefined ? `the folder ${printablePath(dir)} does not exist` : `${printablePath(dir)} is not a folder`}`,
      'Create the folder first (synker does not create folders for --output), or name a file in an existing folder.',
    );
  }
  return file;
}
