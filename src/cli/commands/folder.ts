/**
 * `synker folder add|list|remove|share|unshare`. The folder ID pairs
 * folders across machines, so it must be the same on the source and the
 * backup. `add` writes the folder marker (.synker/folder.json) so a later
 * check can tell an unmounted disk from an emptied folder.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { describeDevice, resolveTrustedDevice, UnknownDeviceError } from '../../config/device-ref.js';
import { checkFolderRoot, writeFolderMarker, type FolderRootStatus } from '../../config/folder-marker.js';
import {
  expandHome,
  FOLDER_ID_PATTERN,
  FOLDER_ID_RULE,
  folderOverlap,
  NESTING_RULE,
  overlapWords,
  realFolderPath,
} from '../../config/folder-rules.js';
import { parseRole, type FolderConfig, type SynkerConfig, type TrustedDevice } from '../../config/types.js';
import { SynkerError, UsageError, errnoCode } from '../../base/errors.js';
import { throughAFile } from '../../base/file-in-the-way.js';
import { printablePath } from '../../base/printable.js';
import { ownDirsNoticeFor } from '../../dirs/own-dirs.js';
import { withCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action, EXIT, ExitError } from '../run.js';
import { formatTable } from '../table.js';

export class FolderPathError extends SynkerError {}

export function register(program: Command): void {
  const folder = program.command('folder').description('add, list and remove the folders this device serves or backs up');
  addExamples(folder, [
    ['synker folder add photos ~/Pictures --role source --share nas', 'on the machine with the originals'],
    ['synker folder add photos /mnt/backup/photos --role backup --share laptop', 'on the backup machine: same ID'],
    ['synker folder list', 'folders, roles, sharing, and whether each root is there'],
  ]);

  const add = folder
    .command('add')
    .description('add a folder (writes the marker .synker/folder.json in its root)')
    .argument('<id>', 'folder ID: the same on the source and the backup (letters, digits, . _ -)')
    .argument('<path>', 'the folder root on this machine (must exist; ~ is the home folder)')
    .requiredOption('--role <role>', 'source (alias master): holds the originals; backup (alias slave): holds the copy')
    .option('--share <device...>', 'trusted devices to share it with (ID, name or first ID group)')
    .action(
      action(async (id: string, rawPath: string, opts: { role: string; share?: string[] }, command: Command) => {
        checkFolderId(id);
        const role = parseRole(opts.role);
        if (!role) throw new UsageError(`--role must be source (or master) or backup (or slave), not "${opts.role}"`);
        const root = path.resolve(expandHome(rawPath));
        await checkRootExists(root);
        return withCliContext(command.optsWithGlobals(), async (ctx) => {
          // Check what can be checked before touching the folder, then again under the config lock.
          const shareWith = (opts.share ?? []).map((ref) => resolveTrustedDevice(ctx.store.current(), ref).deviceId);
          await assertCanAdd(ctx.store.current(), id, root);
          await writeFolderMarker(root, id);
          const added = await ctx.store.update(async (config) => {
            await assertCanAdd(config, id, root);
            const entry: FolderConfig = { id, path: root, role, shareWith: [...new Set(shareWith)] };
            config.folders.push(entry);
            return entry;
          });
          const config = ctx.store.current();
          const names = added.shareWith.map((d) =>
            describeDevice(
              config.trusted.find((t) => t.deviceId === d),
              d,
            ),
          );
          process.stdout.write(
            `added folder "${id}" (${role}) at ${printablePath(root)}${names.length ? `, shared with ${names.join(', ')}` : ''}\n`,
          );
          const own = ownDirsNoticeFor(root);
          if (own !== undefined) process.stderr.write(`warning: ${own}\n`);
          if (names.length === 0) process.stderr.write(`hint: no device can see it yet: synker folder share ${id} DEVICE\n`);
        });
      }),
    );

  addExamples(add, [
    ['synker folder add photos ~/Pictures --role source --share nas', 'share the originals with the device named nas'],
    ['synker folder add photos /mnt/usb/photos --role backup', 'the backup side (alias: --role slave)'],
  ]);

  const list = folder
    .command('list')
    .description('list folders with their role, sharing and whether their root is there')
    .option('--json', 'print a JSON array')
    .action(
      action(async (opts: { json?: boolean }, command: Command) =>
        withCliContext(command.optsWithGlobals(), async (ctx) => {
          const config = ctx.store.current();
          const rows = await Promise.all(
            config.folders.map(async (f) => ({
              id: f.id,
              path: f.path,
              role: f.role,
              shareWith: f.shareWith.map((d) => ({ deviceId: d, name: config.trusted.find((t) => t.deviceId === d)?.name ?? null })),
              status: await checkFolderRoot(f.path, f.id).then(describeStatus, (err: Error) => `error: ${err.message}`),
            })),
          );
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          } else if (rows.length === 0) {
            process.stderr.write('no folders (add one with `synker folder add ID PATH --role source|backup`)\n');
          } else {
            process.stdout.write(
              formatTable(
                ['ID', 'ROLE', 'STATUS', 'SHARED WITH', 'PATH'],
                rows.map((r) => [
                  r.id,
                  r.role,
                  r.status,
                  r.shareWith
                    .map((s) => describeDevice(s.name ? { deviceId: s.deviceId, name: s.name } : undefined, s.deviceId))
                    .join(', ') || '-',
                  r.path,
                ]),
              ),
            );
          }
        }),
      ),
    );

  addExamples(list, [
    ['synker folder list', 'a table; STATUS "absent" means the root or its marker is missing'],
    ['synker folder list --json', 'the same as JSON'],
  ]);

  const remove = folder
    .command('remove')
    .description('stop serving a folder (its files and marker are left alone; its check history is dropped)')
    .argument('<id>', 'folder ID')
    .action(
      action(async (id: string, _opts: unknown, command: Command) =>
        withCliContext(command.optsWithGlobals(), async (ctx) => {
          const removed = await ctx.store.update((config) => {
            const found = findFolder(config, id);
            config.folders = config.folders.filter((f) => f.id !== id);
            return found;
          });
          await (await ctx.state()).dropFolder(id);
          process.stdout.write(`removed folder "${id}" (${printablePath(removed.path)} is left as it is)\n`);
        }),
      ),
    );

  addExamples(remove, [['synker folder remove photos', 'forget the folder (its files stay)']]);

  for (const [name, sharing] of [
    ['share', true],
    ['unshare', false],
  ] as const) {
    const sub = folder
      .command(name)
      .description(sharing ? 'let trusted devices see a folder' : 'hide a folder from devices again')
      .argument('<id>', 'folder ID')
      .argument('<device...>', 'trusted devices: ID, name or first ID group')
      .action(
        action(async (id: string, refs: string[], _opts: unknown, command: Command) =>
          withCliContext(command.optsWithGlobals(), async (ctx) => {
            const changed = await ctx.store.update((config) => {
              const entry = findFolder(config, id);
              const devices = refs.map((ref) => sharedDevice(config, ref));
              const changedNow = devices.filter((d) => entry.shareWith.includes(d.deviceId) !== sharing);
              entry.shareWith = sharing
                ? [...new Set([...entry.shareWith, ...devices.map((d) => d.deviceId)])]
                : entry.shareWith.filter((d) => !devices.some((x) => x.deviceId === d));
              return changedNow;
            });
            const names = changed.map((d) => describeDevice(d, d.deviceId));
            process.stdout.write(
              names.length === 0
                ? `nothing to change: "${id}" was ${sharing ? 'already' : 'not'} shared with ${refs.map(printablePath).join(', ')}\n`
                : `${sharing ? 'shared' : 'unshared'} "${id}" ${sharing ? 'with' : 'from'} ${names.join(', ')}\n`,
            );
          }),
        ),
      );
    addExamples(sub, [
      [`synker folder ${name} photos nas`, sharing ? 'let the device named nas see and check photos' : 'hide photos from nas again'],
    ]);
  }
}

function checkFolderId(id: string): void {
  if (!FOLDER_ID_PATTERN.test(id)) {
    throw new UsageError(`"${id}" is not a valid folder ID`, `Use ${FOLDER_ID_RULE}, e.g. photos or family-photos.`);
  }
}

async function checkRootExists(root: string): Promise<void> {
  // The path as messages show it: a newline in it must not break the error's line (the error printer keeps line breaks).
  const shown = printablePath(root);
  try {
    if (!(await stat(root)).isDirectory())
      throw new FolderPathError('E_FOLDER_NOT_DIR', `${shown} is not a directory`, { hint: 'Give the folder root, not a file in it.' });
  } catch (err) {
    if (err instanceof SynkerError) throw err;
    if (errnoCode(err) === 'ENOENT') {
      throw new FolderPathError('E_FOLDER_PATH_MISSING', `${shown} does not exist`, {
        hint: 'Create it (or mount the disk that holds it), then run this again.',
      });
    }
    const inTheWay = errnoCode(err) === 'ENOTDIR' ? throughAFile(root) : undefined;
    throw new FolderPathError('E_FOLDER_UNREADABLE', printablePath(`cannot open ${root}: ${inTheWay ?? (err as Error).message}`), {
      cause: err,
      ...(inTheWay !== undefined ? { hint: 'Give the path of a folder whose parents are folders.' } : {}),
    });
  }
}

async function assertCanAdd(config: SynkerConfig, id: string, root: string): Promise<void> {
  const sameId = config.folders.find((f) => f.id === id);
  if (sameId) {
    throw new UsageError(
      `folder "${id}" already exists (at ${printablePath(sameId.path)})`,
      `Use \`synker folder share ${id} DEVICE\` to share it, or \`synker folder remove ${id}\` first to move it.`,
    );
  }
  // Real paths, so that a symlink or a bind-mounted spelling of a folder is seen for what it is.
  const real = await realFolderPath(root);
  const shown = printablePath(root);
  for (const other of config.folders) {
    const overlap = folderOverlap(real, await realFolderPath(other.path));
    if (overlap === 'same')
      throw new UsageError(`${shown} is already folder "${other.id}"${other.path === root ? '' : ` (at ${printablePath(other.path)})`}`);
    if (overlap !== undefined) {
      throw new FolderPathError(
        'E_FOLDER_NESTED',
        `${shown} is ${overlapWords(overlap)} folder "${other.id}" (${printablePath(other.path)}): ${NESTING_RULE}`,
        {
          hint: 'A sync writes into the whole backup folder and a check reads the whole source, so a folder inside another would be written to or read twice. Give each folder its own separate root (e.g. sibling folders).',
        },
      );
    }
  }
}

function findFolder(config: SynkerConfig, id: string): FolderConfig {
  const found = config.folders.find((f) => f.id === id);
  if (!found)
    throw new ExitError(EXIT.differences, 'E_UNKNOWN_FOLDER', `there is no folder "${id}"`, 'Run `synker folder list` to see the folders.');
  return found;
}

/** A device named to share or unshare with: like an unknown folder, an unknown device is exit 1 (docs/configuration.md). */
function sharedDevice(config: SynkerConfig, ref: string): TrustedDevice {
  try {
    return resolveTrustedDevice(config, ref);
  } catch (err) {
    if (!(err instanceof UnknownDeviceError)) throw err;
    throw new ExitError(EXIT.differences, err.code, err.message, err.hint);
  }
}

function describeStatus(status: FolderRootStatus): string {
  switch (status.state) {
    case 'ok':
      return 'ok';
    case 'absent':
      return status.reason === 'no-marker' ? 'absent (no marker: disk not mounted?)' : 'absent (path missing: disk not mounted?)';
    case 'other-folder':
      return `wrong folder (marker says "${status.foundId}")`;
  }
}
