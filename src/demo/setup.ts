/**
 * The two demo machines on disk: for each side its own SYNKER_HOME (config,
 * identity, state, hash cache) inside the demo folder, a real identity, a
 * config that shares the sample folder with the other side and trusts its
 * device ID, and for the backup the demo mail server as `smtp`. Written
 * with the config module, exactly as `synker init`/`trust`/`folder share`
 * would leave them.
 */
import path from 'node:path';
import { saveConfigFile } from '../config/config-file.js';
import { CONFIG_FILE_NAME, defaultConfig } from '../config/defaults.js';
import { synkerDirs } from '../dirs/dirs.js';
import { loadOrCreateIdentity, type Identity } from '../identity/identity.js';
import type { FolderRole } from '../config/types.js';
import { DEMO_FOLDER_ID } from './sample.js';

export interface DemoSide {
  role: FolderRole;
  name: string;
  /** SYNKER_HOME of this side. */
  home: string;
  /** The folder root. */
  root: string;
  identity: Identity;
}

export const SOURCE_NAME = 'demo-laptop';
export const BACKUP_NAME = 'demo-backup';
export const REPORT_TO = 'you@example.org';

/** The backup's `smtp` section: the demo mail server, plain SMTP on loopback, no login. */
export function demoSmtp(port: number): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    starttls: 'never',
    from: `synker on ${BACKUP_NAME} <synker@${BACKUP_NAME}.example.org>`,
    to: [REPORT_TO],
    // A fixed EHLO name: no lookup of this machine's name.
    clientName: 'localhost',
    timeout: '10s',
  };
}

export async function setUpSides(
  dir: string,
  sourceRoot: string,
  backupRoot: string,
  smtpPort: number,
): Promise<{ source: DemoSide; backup: DemoSide }> {
  const side = async (role: FolderRole, name: string, root: string): Promise<DemoSide> => {
    const home = path.join(dir, 'homes', role);
    const { identity } = await loadOrCreateIdentity(synkerDirs({ SYNKER_HOME: home }).config, name);
    return { role, name, home, root, identity };
  };
  const source = await side('source', SOURCE_NAME, sourceRoot);
  const backup = await side('backup', BACKUP_NAME, backupRoot);
  for (const [self, other] of [
    [source, backup],
    [backup, source],
  ] as const) {
    await saveConfigFile(path.join(synkerDirs({ SYNKER_HOME: self.home }).config, CONFIG_FILE_NAME), {
      ...defaultConfig(),
      name: self.name,
      // The agents are started with --port 0 (a free port); this is only what the file says.
      port: 0,
      folders: [{ id: DEMO_FOLDER_ID, path: self.root, role: self.role, shareWith: [other.identity.deviceId] }],
      trusted: [{ deviceId: other.identity.deviceId, name: other.name }],
      ...(self.role === 'backup' ? { smtp: demoSmtp(smtpPort) } : {}),
    });
  }
  return { source, backup };
}
