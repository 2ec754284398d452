/**
 * The config file: present, valid, private; each folder's root there and
 * marked (an unmounted disk shows here before a check trips on it).
 */
import { stat } from 'node:fs/promises';
import { SynkerError } from '../base/errors.js';
import { loadConfigFile } from '../config/config-file.js';
import { checkFolderRoot } from '../config/folder-marker.js';
import type { SynkerConfig } from '../config/types.js';
import { ownDirsNoticeFor } from '../dirs/own-dirs.js';
import { fail, ok, warn, type Finding } from './finding.js';
import { plural } from '../base/units.js';

const CHECK = 'config';

export interface ConfigCheckResult {
  findings: Finding[];
  /** The loaded config, when it could be read (the other checks use it). */
  config?: SynkerConfig;
}

export async function checkConfig(configFile: string): Promise<ConfigCheckResult> {
  let loaded;
  try {
    loaded = await loadConfigFile(configFile);
  } catch (err) {
    if (!(err instanceof SynkerError)) throw err;
    return { findings: [fail(CHECK, err.message, err.hint ?? `Fix ${configFile} by hand; docs/configuration.md lists every key.`)] };
  }
  if (!loaded.exists) {
    return { findings: [fail(CHECK, `no config file at ${configFile}`, 'Run `synker init` to set this machine up.')] };
  }
  const config = loaded.config;
  const findings: Finding[] = [
    ok(
      CHECK,
      `${configFile}: agent "${config.name}", ${plural(config.folders.length, 'folder')}, ${plural(config.trusted.length, 'trusted device')}`,
    ),
  ];
  if (process.platform !== 'win32') {
    const mode = (await stat(configFile)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      findings.push(
        warn(
          CHECK,
          `${configFile} can be read by other users (mode ${mode.toString(8).padStart(3, '0')})`,
          `Run: chmod 600 '${configFile}'`,
        ),
      );
    }
  }
  if (config.folders.length === 0)
    findings.push(warn('folder', 'no folders are set up', 'Add one: synker folder add ID PATH --role source|backup'));
  for (const folder of config.folders) {
    let status;
    try {
      status = await checkFolderRoot(folder.path, folder.id);
    } catch (err) {
      if (!(err instanceof SynkerError)) throw err;
      findings.push(fail('folder', `"${folder.id}": ${err.message}`, err.hint ?? "Check the folder's permissions."));
      continue;
    }
    if (status.state === 'ok') {
      findings.push(ok('folder', `"${folder.id}" (${folder.role}) at ${folder.path}`));
      const own = ownDirsNoticeFor(folder.path);
      if (own !== undefined)
        findings.push(
          warn(
            'folder',
            `"${folder.id}": ${own}`,
            `Nothing to fix: they stay on this machine (docs/configuration.md, "synker's own folders"); share a narrower folder to leave this note out.`,
          ),
        );
    } else if (status.state === 'other-folder') {
      findings.push(
        fail(
          'folder',
          `"${folder.id}": ${folder.path} is marked as folder "${status.foundId}"`,
          `Fix the path of "${folder.id}" in ${configFile}.`,
        ),
      );
    } else {
      const why =
        status.reason === 'no-marker'
          ? 'has no .synker/folder.json marker'
          : status.reason === 'no-root'
            ? 'does not exist'
            : 'is not a folder';
      findings.push(
        fail(
          'folder',
          `"${folder.id}": ${folder.path} ${why} (a disk that is not mounted?)`,
          `Mount the disk; if the folder moved, \`synker folder remove ${folder.id}\` and add it again with the new path.`,
        ),
      );
    }
  }
  if (config.trusted.length === 0) {
    findings.push(
      warn(
        'trust',
        'this device trusts no other device yet',
        'On each machine run `synker id`, then `synker trust <OTHER-ID>` on the other one.',
      ),
    );
  }
  return { findings, config };
}
