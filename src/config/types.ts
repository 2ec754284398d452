/**
 * The user config's shape (one JSON file, documented key by key in
 * docs/configuration.md). The config module owns loading, validation,
 * migration and atomic writes; everyone else reads these types.
 */
import type { WebConfig } from './web.js';

/** `source` holds the originals (users also say `master`); `backup` holds the copy (`slave`). */
export type FolderRole = 'source' | 'backup';

export interface FolderConfig {
  /** Pairs folders across machines: must be the same on the source and the backup. */
  id: string;
  /** Absolute path of the folder root on this machine. */
  path: string;
  role: FolderRole;
  /** Device IDs (canonical form) this folder is shared with; nobody else can see it exists. */
  shareWith: string[];
  /** Backup folders: the agent's schedule syncs after each check (`synker sync`). Default false. */
  sync?: boolean;
  /**
   * Backup folders: the backup must be an exact mirror, so a file only on the backup (an extra) makes it
   * incomplete. Default false: extras are listed and do not fail (docs/check.md, "What complete means").
   */
  mirror?: boolean;
  /** How long sync keeps replaced and deleted files in `.synker/versions/` (`maxAge`: "36h", "90d", "8w"). Default: forever. */
  versions?: { maxAge?: string; keep?: number };
}

export interface TrustedDevice {
  /** Canonical device ID (56 characters, no dashes). */
  deviceId: string;
  /** A name the user gave it (`synker trust ID --name nas`), or the name it announced. */
  name?: string;
}

export interface SynkerConfig {
  version: number;
  /** This agent's name, shown to peers and in reports (default: the host name). */
  name: string;
  /** TCP port the agent listens on (wss). */
  port: number;
  folders: FolderConfig[];
  trusted: TrustedDevice[];
  /** Static peers (`host:port`) for networks where multicast does not work. */
  peers: string[];
  /**
   * The `smtp` and `schedule` sections exactly as written in the file, so a
   * save writes back what the user wrote ("30s", "3d"), not computed values.
   * They are parsed once, when the config is validated: read the typed
   * settings with smtpSettingsOf(config) and scheduleSettingsOf(config)
   * (src/config/settings.ts), never by parsing these again.
   * No `smtp`: reports are not e-mailed. No `schedule`: the defaults.
   */
  smtp?: Readonly<Record<string, unknown>> | undefined;
  schedule?: Readonly<Record<string, unknown>> | undefined;
  /** Where the agent serves its status page (config/web.ts); absent: the defaults. */
  web?: WebConfig | undefined;
}

/** Accepts the words users use for roles: source/master and backup/slave. */
export function parseRole(word: string): FolderRole | undefined {
  switch (word.trim().toLowerCase()) {
    case 'source':
    case 'master':
      return 'source';
    case 'backup':
    case 'slave':
      return 'backup';
    default:
      return undefined;
  }
}
