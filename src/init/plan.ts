/**
 * What `synker init` will set up, gathered from flags and (on a terminal)
 * answers: checked here, in one place, before anything is written.
 */
import path from 'node:path';
import { UsageError } from '../base/errors.js';
import { parseRole, type FolderRole } from '../config/types.js';
import { expandHome, FOLDER_ID_PATTERN, folderIdProblem, folderOverlap } from '../config/folder-rules.js';
import { isMailAddress } from '../config/smtp.js';
import { nameProblem } from '../config/device-name.js';

export interface PlannedFolder {
  id: string;
  /** Absolute path. */
  path: string;
  role: FolderRole;
}

export interface PlannedEmail {
  to: string[];
  from: string;
  host: string;
  port: number;
  /** Implicit TLS (port 465). */
  secure: boolean;
  user?: string;
  /** Exactly one password source when `user` is set. */
  passwordEnv?: string;
  passwordFile?: string;
  /** Typed at the prompt: written to a 0600 file next to the config. Never from a flag. */
  password?: string;
}

export interface InitPlan {
  name: string;
  port?: number;
  folders: PlannedFolder[];
  email?: PlannedEmail;
}

/** A folder ID from a path: its last component, lowercased, plain characters only. */
export function folderIdFromPath(p: string): string {
  const base = path
    .basename(path.resolve(p))
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '');
  return (base || 'folder').slice(0, 64);
}

/** `--folder [ID=]PATH`: the ID is the part before `=` when it looks like one. */
export function parseFolderSpec(spec: string, role: FolderRole): PlannedFolder {
  const eq = spec.indexOf('=');
  const maybeId = eq > 0 ? spec.slice(0, eq) : undefined;
  const hasId = maybeId !== undefined && FOLDER_ID_PATTERN.test(maybeId);
  const rawPath = hasId ? spec.slice(eq + 1) : spec;
  if (rawPath.trim() === '')
    throw new UsageError(
      `--folder ${spec}: the path is empty`,
      'Use --folder PATH or --folder ID=PATH, e.g. --folder pictures=~/Pictures.',
    );
  const abs = path.resolve(expandHome(rawPath.trim()));
  return { id: hasId ? maybeId : folderIdFromPath(abs), path: abs, role };
}

export function checkRole(word: string): FolderRole {
  const role = parseRole(word);
  if (!role)
    throw new UsageError(
      `unknown role "${word}"`,
      'Use source (alias master: holds the originals) or backup (alias slave: holds the copy).',
    );
  return role;
}

export function checkAddress(value: string, flag: string): string {
  if (!isMailAddress(value))
    throw new UsageError(`${flag} ${value}: not an e-mail address`, 'Give an address like me@example.org or "Me <me@example.org>".');
  return value.trim();
}

/** A port as the user types it: digits only (no "1e3", no "0x50"); 0 only where it means "any free port". */
export function checkPort(value: string | number, flag: string, options: { allowZero?: boolean } = {}): number {
  const low = options.allowZero === true ? 0 : 1;
  const port = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < low || port > 65535)
    throw new UsageError(`${flag} ${value}: not a port number`, `Use a number from ${low} to 65535.`);
  return port;
}

/** The machine's name by the rule of every device name (config/device-name.ts): a usage error, before any key is made. */
export function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== undefined) throw new UsageError(`--name ${problem}`);
}

/** Rejects contradictions before anything is written. */
export function checkPlan(plan: InitPlan): void {
  checkName(plan.name);
  const ids = new Set<string>();
  for (const folder of plan.folders) {
    const problem = folderIdProblem(folder.id);
    if (problem) throw new UsageError(`folder ID "${folder.id}" is not valid`, problem);
    if (ids.has(folder.id)) throw new UsageError(`two folders have the ID "${folder.id}"`, 'Give each one its own ID: --folder ID=PATH.');
    ids.add(folder.id);
  }
  // Refused here, before any folder marker is written (the config would refuse it only after).
  for (const [i, a] of plan.folders.entries()) {
    for (const b of plan.folders.slice(i + 1)) {
      const overlap = folderOverlap(path.resolve(a.path), path.resolve(b.path));
      if (overlap === 'same')
        throw new UsageError(`folders "${a.id}" and "${b.id}" have the same path ${a.path}`, 'Give each folder its own path.');
      if (overlap !== undefined) {
        const [inner, outer] = overlap === 'inside' ? [a, b] : [b, a];
        throw new UsageError(
          `folder "${inner.id}" (${inner.path}) is inside folder "${outer.id}" (${outer.path})`,
          'Folders must not be inside one another: give each its own separate root (e.g. sibling folders).',
        );
      }
    }
  }
  const email = plan.email;
  if (email?.user !== undefined) {
    const sources = [email.password, email.passwordEnv, email.passwordFile].filter((s) => s !== undefined).length;
    if (sources === 0) {
      throw new UsageError(
        `--smtp-user ${email.user} needs a password source`,
        'Pass --smtp-password-env VAR (a variable holding it) or --smtp-password-file FILE (mode 0600); passwords are never taken on the command line.',
      );
    }
    if (sources > 1)
      throw new UsageError('give the SMTP password one way only', 'Keep either --smtp-password-env or --smtp-password-file.');
  }
}
