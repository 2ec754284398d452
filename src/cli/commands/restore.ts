/**
 * `synker restore [FOLDER] [PATH...]`: on the source machine, bring files
 * back from a backup (docs/sync.md): everything missing or damaged here
 * (changed with size and mtime kept, or unreadable), or the paths given; into place, or under `--to DIR`. A source file newer than the
 * backup's copy is kept unless `--force`; what is replaced goes to
 * `.synker/versions/`. Exit code: 0 done, 1 files skipped or failed, 2 error.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { findSource } from '../../check/find-source.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../../check/folders.js';
import { verifyFolderRoot } from '../../config/folder-marker.js';
import type { FolderConfig, SynkerConfig } from '../../config/types.js';
import { SynkerError, UsageError } from '../../base/errors.js';
import { HashCache } from '../../scan/hash-cache.js';
import { SyncError } from '../../sync/errors.js';
import { leftAloneLines, planToJson, renderPlan, renderResult, SYNC_RESULT_VERSION } from '../../sync/plan-render.js';
import { createProgressPrinter } from '../../sync/progress.js';
import { restoreFromSession } from '../../sync/restore.js';
import { assertRestoreTarget } from '../../sync/restore-target.js';
import { withCliContext } from '../context.js';
import { addDiscoveryOptions, locatorFor, type DiscoveryFlags } from '../discovery-flags.js';
import { addExamples } from '../help.js';
import { keepPartialsOnSignal } from '../keep-partials-on-signal.js';
import { action, printError } from '../run.js';
import { durationFlag } from '../flags.js';
import { typedPath } from '../flags.js';
import { printablePath } from '../../base/printable.js';
import { realPath } from '../../base/real-path.js';
import { jsonLinesPieces } from '../../report/json.js';
import { writePieces } from '../write-out.js';

interface RestoreFlags extends DiscoveryFlags {
  peer?: string;
  to?: string;
  dryRun?: boolean;
  force?: boolean;
  verify?: boolean;
  json?: boolean;
  all?: boolean;
  timeout?: string;
}

export function register(program: Command): void {
  const restore = program
    .command('restore')
    .description('bring files back from a backup onto this (source) machine, verified')
    .argument('[folder]', 'folder ID (default: the only source folder on this machine)')
    .argument(
      '[paths...]',
      'files or folders to restore, relative to the folder; a path starting with / ./ or ../ is taken from the current directory (default: everything missing or damaged here)',
    )
    .option('--peer <peer>', 'the backup: a trusted device (name, device ID or its first group) or host:port')
    .option('--to <dir>', 'write the files under DIR instead of into the folder (the folder is not touched)')
    .option('--dry-run', 'print what would be restored, change nothing')
    .option('--force', 'also overwrite files that are newer here than on the backup')
    .option('--verify', 're-hash every local file first (finds damaged files the hash cache would hide)')
    .option('--json', 'print the result as JSON')
    .option('--all', 'list every action (long lists are cut otherwise)')
    .option('--timeout <duration>', `how long to try reaching the backup (default ${DEFAULT_CHECK_TIMEOUT_MS / 1000}s)`);
  addDiscoveryOptions(restore, 'the backup');
  addExamples(restore, [
    ['synker restore photos --dry-run', 'what is missing or damaged here and would come back'],
    ['synker restore photos --verify', 're-read every file here first, to find damage that kept size and times'],
    ['synker restore photos 2024/IMG_0001.jpg', 'bring back one file'],
    ['synker restore photos 2024 --to /tmp/restored', 'a folder, somewhere else'],
  ]);
  restore.action(
    action(async (first: string | undefined, rest: string[], flags: RestoreFlags, command: Command) => {
      const timeoutMs = flags.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : durationFlag('--timeout', flags.timeout);
      return withCliContext(command.optsWithGlobals(), async (ctx) => {
        const config = ctx.store.current();
        const { folder, paths } = pickFolder(config, first, rest);
        const relPaths = paths.map((p) => toFolderPath(folder, p));
        const state = await ctx.state();
        if (flags.to === undefined) await verifyFolderRoot(folder.path, folder.id);
        else await assertRestoreTarget(flags.to, folder.path);
        const lock = await state.acquireFolderLock(folder.id, { purpose: 'restore' });
        const locator = await locatorFor(config.peers, flags);
        const releaseSignals = keepPartialsOnSignal('restore');
        try {
          const found = await findSource({
            config,
            folder,
            identity: await ctx.identity(),
            locator,
            peer: flags.peer,
            timeoutMs,
            wantRole: 'backup',
            requestFiles: !flags.dryRun,
          }).catch((err: unknown) => {
            throw err instanceof SynkerError ? asBackupError(err) : err;
          });
          const cache =
            flags.to === undefined && !flags.dryRun ? await HashCache.open(ctx.dirs.cache, await realPath(folder.path)) : undefined;
          const progress = flags.json ? undefined : createProgressPrinter(process.stderr);
          try {
            const outcome = await restoreFromSession(
              folder,
              found.session,
              {
                paths: relPaths,
                ...(flags.to === undefined ? {} : { toDir: path.resolve(flags.to) }),
                dryRun: flags.dryRun ?? false,
                force: flags.force ?? false,
                verify: flags.verify ?? false,
                ...(cache ? { hashCache: cache } : {}),
                ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
              },
              found.manifest,
            );
            progress?.done();
            if (flags.json) {
              const result = {
                schema: 'synker/restore-result',
                version: SYNC_RESULT_VERSION,
                folderId: folder.id,
                from: found.device.name ?? found.device.deviceId,
                dryRun: outcome.dryRun,
                exitCode: outcome.exitCode,
                plan: planToJson(outcome.plan),
                notOnBackup: outcome.notOnBackup,
                result: outcome.result ?? null,
              };
              // In pieces: a restore of 200,000 files is tens of MB of JSON (report/json.ts).
              await writePieces(process.stdout, jsonLinesPieces([result]));
            } else {
              const from = `${found.device.name ?? 'the backup'} (${found.address})`;
              const text = outcome.dryRun
                ? `dry run, from ${from}: ${renderPlan(outcome.plan, { all: flags.all ?? false })}`
                : `restored from ${from}:\n${renderResult(outcome.result!)}${outcome.plan.skipped.length ? `\n${outcome.plan.skipped.map((s) => `skipped (${s.reason}): ${printablePath(s.path)}: ${printablePath(s.detail)}`).join('\n')}` : ''}`;
              const alone = outcome.dryRun ? [] : leftAloneLines(outcome.plan);
              process.stdout.write(`${[text, ...alone].join('\n')}\n`);
              if (outcome.result?.aborted) printError(outcome.result.aborted);
            }
            for (const p of outcome.notOnBackup) {
              process.stderr.write(
                `warning: ${printablePath(p)}: the backup on ${printablePath(found.device.name ?? found.device.deviceId)} has nothing at this path; nothing was restored for it\n`,
              );
            }
            return outcome.exitCode;
          } finally {
            await cache?.close();
            await found.session.close().catch(() => undefined);
          }
        } finally {
          releaseSignals();
          await locator.close();
          await lock.release();
        }
      });
    }),
  );
}

/**
 * findSource speaks of "the source"; restore looks for a backup. Its error
 * keeps its own message and hint (a refusal by the backup, a bad --peer
 * address, an --interface typo each say what to do), reworded; only "no
 * backup was reached at all" becomes E_RESTORE_NO_BACKUP.
 */
function asBackupError(err: SynkerError): SyncError {
  const message = err.message.replace(/the source's/g, "a backup's").replace(/the source/g, 'a backup');
  const hint = err.hint?.replace(/the source's/g, "the backup's").replace(/the source/g, 'the backup');
  const notReached = err.code === 'E_SOURCE_NOT_FOUND' || err.code === 'E_SOURCE_UNREACHABLE';
  return new SyncError(notReached ? 'E_RESTORE_NO_BACKUP' : err.code, message, { cause: err, ...(hint === undefined ? {} : { hint }) });
}

/** FOLDER is optional: a first word that is not a folder ID is a path of the only source folder. */
function pickFolder(config: SynkerConfig, first: string | undefined, rest: string[]): { folder: FolderConfig; paths: string[] } {
  const named = first === undefined ? undefined : config.folders.find((f) => f.id === first);
  if (named !== undefined) {
    if (named.role !== 'source') {
      throw new UsageError(
        `folder "${named.id}" is a backup on this machine; restore runs on the machine with the originals`,
        'to get files out of this backup, use synker versions, or copy them; or run synker restore on the source machine',
      );
    }
    return { folder: named, paths: rest };
  }
  const sources = config.folders.filter((f) => f.role === 'source');
  if (sources.length !== 1) {
    throw new UsageError(
      first === undefined ? 'name the folder to restore' : `there is no folder "${first}" in the config`,
      sources.length === 0
        ? 'restore runs on a machine with a source folder (synker folder add ID PATH --role source)'
        : `source folders here: ${sources.map((f) => f.id).join(', ')}`,
    );
  }
  return { folder: sources[0]!, paths: first === undefined ? rest : [first, ...rest] };
}

/** A path given on the command line, as the folder-relative manifest path. */
function toFolderPath(folder: FolderConfig, typed: string): string {
  const given = typedPath(typed);
  const abs = path.resolve(given);
  const rel = path.isAbsolute(given) || given.startsWith('./') || given.startsWith('../') ? path.relative(folder.path, abs) : given;
  const clean = rel.split(path.sep).join('/').replace(/\/+$/, '').normalize('NFC');
  if (clean === '' || clean.startsWith('../') || clean === '..' || path.isAbsolute(clean)) {
    throw new UsageError(`${given} is not inside folder "${folder.id}" (${folder.path})`);
  }
  return clean;
}
