/**
 * `synker check [FOLDER]`: is the backup complete? Compares each backup
 * folder (or the one named) with its source and prints the report: for a
 * person on stdout, or as JSON (`--json`, schema in docs/report-schema.md).
 * Exit code: 0 complete, 1 differences, 2 the check could not be done.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../atomic-file.js';
import { foldersToCheck, DEFAULT_CHECK_TIMEOUT_MS } from '../../check/folders.js';
import { checkThroughAgent } from '../../control/client.js';
import { CONTROL_VERSION, type RequestedCheckOptions } from '../../control/protocol.js';
import { UsageError } from '../../errors.js';
import { CHECK_EXIT, type CheckReport } from '../../report/model.js';
import { renderJsonLines } from '../../report/json.js';
import { renderTerminal, shouldUseColor } from '../../report/terminal.js';
import { withCliContext } from '../context.js';
import { addDiscoveryOptions, type DiscoveryFlags } from '../discovery-flags.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';
import { durationFlag, jobsFlag } from '../flags.js';

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
}

export function register(program: Command): void {
  const check = program
    .command('check')
    .description('compare backup folders with their source and report what differs (exit 0 complete, 1 differences, 2 error)')
    .argument('[folder]', 'folder ID (default: every backup folder on this machine)')
    .option('--peer <peer>', 'the source: a trusted device (name or device ID) or host:port')
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
    .option('--no-agent', 'check in this process even when this machine\'s agent runs (by default the agent does it: its code and scan thread are warm)');
  addExamples(check, [
    ['synker check', 'check every backup folder on this machine'],
    ['synker check photos --peer 192.168.1.20:7780', 'reach the source at a fixed address'],
    ['synker check photos --json --output report.json', 'for scripts'],
    ['synker check photos --verify', 're-read every file (slow; finds silent corruption)'],
    ['synker check photos --email', 'mail the report to smtp.to'],
  ]);
  check.action(
    action(async (folderId: string | undefined, flags: CheckFlags, command: Command) => {
      if (flags.verify && flags.sizeOnly) throw new UsageError('--verify and --size-only contradict each other', 'use one of them');
      const options: RequestedCheckOptions = {
        peer: flags.peer,
        verify: flags.verify ?? false,
        sizeOnly: flags.sizeOnly ?? false,
        timeoutMs: flags.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : durationFlag('--timeout', flags.timeout),
        mtimeToleranceMs:
          flags.mtimeTolerance === undefined || flags.mtimeTolerance === 'auto' ? 'auto' : durationFlag('--mtime-tolerance', flags.mtimeTolerance, true),
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
                options: { ...options, mdns, interfaces },
              });
        // The check's modules are loaded only here: a check the agent does needs none of them in the CLI.
        const reports =
          byAgent ??
          (await (await import('../../check/run.js')).checkFolders({ config, identity: await ctx.identity(), state: await ctx.state() }, folders, options, { mdns, interfaces }));
        await output(reports, flags);
        if (email !== undefined && mailer !== undefined) await email.emailReports(mailer, reports);
        for (const report of reports) {
          if (report.error === null) continue;
          process.stderr.write(`error: ${report.error.message}\n`);
          if (report.error.hint !== null) process.stderr.write(`hint: ${report.error.hint}\n`);
        }
        return Math.max(...reports.map((r) => r.exitCode));
      });
    }),
  );
}

async function output(reports: CheckReport[], flags: CheckFlags): Promise<void> {
  const toFile = flags.output !== undefined;
  const text = flags.json
    ? renderJsonLines(reports)
    : reports
        .filter((r) => r.exitCode !== CHECK_EXIT.error || reports.length > 1 || toFile)
        .map((r) => renderTerminal(r, { color: !toFile && shouldUseColor(process.stdout), all: flags.all ?? false }))
        .join('\n');
  if (toFile) await writeFileAtomic(path.resolve(flags.output!), text, 0o644);
  else process.stdout.write(text);
}


