/** Which file each platform's service manager reads, where it lives, and its bytes. */
import { synkerDirs } from '../dirs/dirs.js';
import { launchdPlistPath, renderLaunchdPlist } from './launchd.js';
import { homeOf, type ServicePlatform, type ServiceSpec } from './spec.js';
import { renderSystemdUnit, systemdUnitPath } from './systemd.js';
import { encodeUtf16WithBom, renderWindowsTask, windowsTaskXmlPath } from './windows-task.js';

export interface ServiceFile {
  platform: ServicePlatform;
  /** Where `service install` writes it. */
  path: string;
  /** What `service print` shows. */
  text: string;
  /** What is written (UTF-16 for the Windows task). */
  bytes: Buffer;
}

export const PLATFORM_NAMES: Record<ServicePlatform, string> = {
  linux: 'Linux (systemd user unit)',
  darwin: 'macOS (launchd agent)',
  win32: 'Windows (Scheduled Task)',
};

export function serviceFile(platform: ServicePlatform, spec: ServiceSpec, env: NodeJS.ProcessEnv = process.env): ServiceFile {
  const home = homeOf(env);
  switch (platform) {
    case 'linux': {
      const text = renderSystemdUnit(spec);
      return { platform, path: systemdUnitPath(env, home), text, bytes: Buffer.from(text, 'utf8') };
    }
    case 'darwin': {
      const text = renderLaunchdPlist(spec);
      return { platform, path: launchdPlistPath(home), text, bytes: Buffer.from(text, 'utf8') };
    }
    case 'win32': {
      const text = renderWindowsTask(spec);
      return { platform, path: windowsTaskXmlPath(synkerDirs(env, 'win32').config), text, bytes: encodeUtf16WithBom(text) };
    }
  }
}
