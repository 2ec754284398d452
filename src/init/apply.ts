/**
 * Carry out an init plan: identity (created once, never replaced), folder
 * markers, the SMTP password file, then the config file last — so a failure
 * half-way leaves no config claiming a set-up that is not there.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SynkerError, errnoCode } from '../base/errors.js';
import { throughAFile } from '../base/file-in-the-way.js';
import { writeFileAtomic } from '../base/atomic-file.js';
import { loadConfigFile } from '../config/config-file.js';
import { ConfigStore } from '../config/config-store.js';
import { writeFolderMarker } from '../config/folder-marker.js';
import { loadOrCreateIdentity, type Identity } from '../identity/identity.js';
import type { SynkerConfig } from '../config/types.js';
import { parseSmtpSettings } from '../config/smtp.js';
import type { InitPlan, PlannedEmail, PlannedFolder } from './plan.js';
import { plural } from '../base/units.js';

export class InitError extends SynkerError {}

export const SMTP_PASSWORD_FILE = 'smtp-password';

export interface InitTarget {
  /** The config file to write. */
  configFile: string;
  /** Where the identity lives (the platform config dir). */
  configDir: string;
  /** Rewrite an existing config's name, port, folders and e-mail (identity and trusted devices are kept). */
  force: boolean;
  /** With `force`: keep the existing folders (none were given again). */
  keepFolders?: boolean;
  /** With `force`: keep the existing e-mail settings (none were given, and --no-email was not). */
  keepEmail?: boolean;
}

export interface InitResult {
  config: SynkerConfig;
  identity: Identity;
  identityCreated: boolean;
  /** Folders whose directory init created (backup side). */
  createdFolders: string[];
  /** What `--force` kept from the existing config because it was not given again. */
  kept: { folders: string[]; email: boolean };
  passwordFile?: string;
}

export async function applyInit(plan: InitPlan, target: InitTarget): Promise<InitResult> {
  const existing = await loadConfigFile(target.configFile);
  if (existing.exists && !target.force) {
    const c = existing.config;
    throw new InitError(
      'E_INIT_EXISTS',
      `synker is already set up here: ${target.configFile} (agent "${c.name}", ${plural(c.folders.length, 'folder')})`,
      {
        hint: 'Add folders with `synker folder add`, devices with `synker trust`; or run `synker init --force` to rewrite the name and the folders and e-mail you give (the rest, the identity and trusted devices are kept).',
      },
    );
  }
  // Refuse bad e-mail settings before anything is written (the same check the config applies).
  const passwordFile = plan.email?.password !== undefined ? path.join(target.configDir, SMTP_PASSWORD_FILE) : undefined;
  const smtp = plan.email ? smtpSection(plan.email, passwordFile) : undefined;
  if (smtp) parseSmtpSettings(smtp);

  const createdFolders: string[] = [];
  for (const folder of plan.folders) await prepareFolder(folder, createdFolders);

  const { identity, created } = await loadOrCreateIdentity(target.configDir, plan.name);
  if (passwordFile !== undefined) await writeFileAtomic(passwordFile, `${plan.email!.password}\n`, { mode: 0o600, exactMode: true });
  for (const folder of plan.folders) await writeFolderMarker(folder.path, folder.id);

  const store = await ConfigStore.open(target.configFile);
  let config: SynkerConfig;
  const kept = { folders: [] as string[], email: false };
  try {
    await store.update((draft) => {
      draft.name = plan.name;
      if (plan.port !== undefined) draft.port = plan.port;
      if (target.keepFolders === true && draft.folders.length > 0) {
        kept.folders = draft.folders.map((f) => f.id);
      } else {
        // A folder given again under its ID keeps what was set up for it since (shares, sync, versions).
        draft.folders = plan.folders.map((f) => {
          const before = draft.folders.find((d) => d.id === f.id);
          return before !== undefined ? { ...before, path: f.path, role: f.role } : { id: f.id, path: f.path, role: f.role, shareWith: [] };
        });
      }
      if (smtp) draft.smtp = smtp;
      else if (target.keepEmail === true && draft.smtp !== undefined) kept.email = true;
      else delete draft.smtp;
    });
    config = store.current();
  } finally {
    await store.close();
  }
  return { config, identity, identityCreated: created, createdFolders, kept, ...(passwordFile ? { passwordFile } : {}) };
}

/** The config's `smtp` section as a user would write it (docs/configuration.md). */
function smtpSection(email: PlannedEmail, passwordFile: string | undefined): Record<string, unknown> {
  return {
    host: email.host,
    port: email.port,
    ...(email.secure ? { secure: true } : {}),
    ...(email.user !== undefined ? { user: email.user } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : {}),
    ...(email.passwordFile !== undefined ? { passwordFile: path.resolve(email.passwordFile) } : {}),
    ...(email.passwordEnv !== undefined ? { passwordEnv: email.passwordEnv } : {}),
    from: email.from,
    to: email.to,
  };
}

/**
 * A source folder must exist. A backup folder may be created, but only inside
 * a parent that exists: creating a mount point's whole path would hide an
 * unmounted disk (the backup would land on the internal disk).
 */
async function prepareFolder(folder: PlannedFolder, created: string[]): Promise<void> {
  try {
    if ((await stat(folder.path)).isDirectory()) return;
    throw new InitError('E_INIT_FOLDER', `${folder.path} is not a folder`, { hint: 'Give the path of a folder (directory).' });
  } catch (err) {
    if (err instanceof InitError) throw err;
    if (errnoCode(err) !== 'ENOENT') {
      const inTheWay = errnoCode(err) === 'ENOTDIR' ? throughAFile(folder.path) : undefined;
      throw new InitError('E_INIT_FOLDER', `cannot open ${folder.path}: ${inTheWay ?? (err as Error).message}`, {
        cause: err,
        hint: inTheWay !== undefined ? 'Give the path of a folder whose parents are folders.' : 'Check the path and its permissions.',
      });
    }
  }
  if (folder.role === 'source') {
    throw new InitError('E_INIT_FOLDER', `the source folder ${folder.path} does not exist`, {
      hint: 'Give the folder that holds the originals (check the spelling, or mount its disk).',
    });
  }
  const parent = path.dirname(folder.path);
  try {
    await stat(parent);
  } catch {
    throw new InitError('E_INIT_FOLDER', `cannot create the backup folder ${folder.path}: ${parent} does not exist`, {
      hint: 'Mount the backup disk first (synker never creates a missing mount point), or create the parent folder.',
    });
  }
  await mkdir(folder.path);
  created.push(folder.path);
}
