/**
 * `synker versions list|restore|prune`: the copies sync and restore keep of
 * what they replaced or removed, in `<folder>/.synker/versions/`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { FolderConfig, SynkerConfig } from '../../config/types.js';
import { parseDuration } from '../../base/duration.js';
import { UsageError } from '../../base/errors.js';
import { SyncError } from '../../sync/errors.js';
import { formatBytes, plural } from '../../base/units.js';
import { pruneVersions } from '../../sync/versions-prune.js';
import { listVersions, restoreVersion, type VersionInfo } from '../../sync/versions.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action, EXIT } from '../run.js';
import { typedPath } from '../flags.js';
import { printablePath } from '../../base/printable.js';

export function register(program: Command): void {
  const versions = program.command('versions').description('list, restore and prune the copies sync keeps of replaced and deleted files');
  addExamples(versions, [
    ['synker versions list photos', 'every kept version, newest first per file'],
    ['synker versions restore photos 2024/a.jpg', 'put the newest kept version back'],
    ['synker versions prune photos --max-age 90d --keep 5', 'forget old versions'],
  ]);

  const list = versions
    .command('list')
    .description('list kept versions (exit 1 when there are none)')
    .argument('<folder>', 'folder ID')
    .argument('[paths...]', 'only these files or folders')
    .option('--json', 'one JSON object per version');
  addExamples(list, [
    ['synker versions list photos', 'every kept version in the folder'],
    ['synker versions list photos 2024/a.jpg', 'the versions of one file'],
  ]);
  list.action(
    action(async (folderId: string, paths: string[], flags: { json?: boolean }, command: Command) =>
      withCliContext(command.optsWithGlobals(), async (ctx) => {
        const folder = folderById(ctx.store.current(), folderId);
        const found = await listVersions(folder.path, paths.map(clean));
        for (const v of found) {
          process.stdout.write(
            flags.json
              ? `${JSON.stringify({ path: v.path, replacedAt: v.replacedAt.toISOString(), stamp: v.stamp, versionPath: v.versionPath, size: v.size, mtime: v.mtime })}\n`
              : `${v.replacedAt.toISOString().replace('.000Z', 'Z')}  ${formatBytes(v.size).padStart(8)}  ${printablePath(v.path)}  (${v.stamp})\n`,
          );
        }
        if (found.length === 0 && !flags.json)
          process.stderr.write(`no kept versions${paths.length ? ' of those paths' : ''} in "${folder.id}"\n`);
        return found.length === 0 ? EXIT.differences : EXIT.ok;
      }),
    ),
  );

  const restore = versions
    .command('restore')
    .description('copy a kept version back (what is there now is kept as a version too)')
    .argument('<folder>', 'folder ID')
    .argument('<path>', 'the file, as it was named in the folder')
    .option('--at <stamp>', 'which version (the stamp shown by `versions list`; default the newest)')
    .option('--to <dir>', 'write it under DIR instead of into the folder');
  addExamples(restore, [
    ['synker versions restore photos 2024/a.jpg', 'the newest kept version, back in place'],
    ['synker versions restore photos 2024/a.jpg --at 20261125-160712 --to /tmp/old', 'an older one, elsewhere'],
  ]);
  restore.action(
    action(async (folderId: string, file: string, flags: { at?: string; to?: string }, command: Command) =>
      withCliContext(command.optsWithGlobals(), async (ctx) => {
        const folder = folderById(ctx.store.current(), folderId);
        const wanted = clean(file);
        const candidates = (await listVersions(folder.path, [wanted])).filter((v) => v.path === wanted);
        const chosen: VersionInfo | undefined =
          flags.at === undefined ? candidates[0] : candidates.find((v) => v.stamp === flags.at || v.versionPath.endsWith(`~${flags.at}`));
        if (chosen === undefined) {
          throw new SyncError('E_VERSION_NOT_FOUND', `no kept version of ${wanted}${flags.at ? ` at ${flags.at}` : ''} in "${folder.id}"`, {
            hint: `list them: synker versions list ${folder.id} ${wanted}`,
          });
        }
        const target = await restoreVersion(folder.path, chosen, flags.to === undefined ? {} : { toDir: path.resolve(flags.to) });
        process.stdout.write(`restored ${printablePath(wanted)} as of ${chosen.replacedAt.toISOString()} to ${printablePath(target)}\n`);
      }),
    ),
  );

  const prune = versions
    .command('prune')
    .description('remove kept versions older than --max-age, or beyond the newest --keep per file')
    .argument('<folder>', 'folder ID')
    .option('--max-age <duration>', 'e.g. 90d, 12h')
    .option('--keep <n>', 'versions to keep per file');
  addExamples(prune, [
    ['synker versions prune photos --max-age 90d', 'forget versions older than 90 days'],
    ['synker versions prune photos --keep 3', 'keep the 3 newest of each file'],
  ]);
  prune.action(
    action(async (folderId: string, flags: { maxAge?: string; keep?: string }, command: Command) => {
      if (flags.maxAge === undefined && flags.keep === undefined)
        throw new UsageError('say what to prune: --max-age DURATION and/or --keep N');
      const keep = flags.keep === undefined ? undefined : Number(flags.keep);
      if (keep !== undefined && (!Number.isInteger(keep) || keep < 0))
        throw new UsageError(`--keep must be a whole number, not ${flags.keep}`);
      const maxAgeMs = flags.maxAge === undefined ? undefined : ageFlag(flags.maxAge);
      return withCliContext(command.optsWithGlobals(), async (ctx) => {
        const folder = folderById(ctx.store.current(), folderId);
        const removed = await pruneVersions(folder.path, {
          ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
          ...(keep === undefined ? {} : { keepPerPath: keep }),
        });
        process.stdout.write(
          `removed ${plural(removed.length, 'kept version')} (${formatBytes(removed.reduce((n, v) => n + v.size, 0))}) from "${folder.id}"\n`,
        );
      });
    }),
  );
}

function folderById(config: SynkerConfig, id: string): FolderConfig {
  const folder = config.folders.find((f) => f.id === id);
  if (folder === undefined) {
    throw new UsageError(
      `there is no folder "${id}" in the config`,
      `folders here: ${config.folders.map((f) => f.id).join(', ') || 'none'}`,
    );
  }
  return folder;
}

function clean(p: string): string {
  return typedPath(p)
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '')
    .normalize('NFC');
}

/** Durations for ages: `90d` and `2w` besides what parseDuration takes. */
function ageFlag(value: string): number {
  const m = /^(\d+)\s*([dw])$/.exec(value.trim());
  if (m) return Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 7 * 86_400_000);
  try {
    return parseDuration(value);
  } catch {
    throw new UsageError(`--max-age ${value} is not a duration`, 'write it like 90d, 2w or 12h');
  }
}
