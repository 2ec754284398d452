/**
 * A systemd *user* unit (~/.config/systemd/user/synker.service): the agent
 * starts when the user's session manager starts (at login; at boot with
 * `loginctl enable-linger`), restarts after a crash, logs to the journal.
 */
import path from 'node:path';
import type { ServiceSpec } from './spec.js';

export const SYSTEMD_UNIT_NAME = 'synker.service';

export function systemdUnitPath(env: NodeJS.ProcessEnv, home: string): string {
  const configHome = env.XDG_CONFIG_HOME || path.posix.join(home, '.config');
  return path.posix.join(configHome, 'systemd', 'user', SYSTEMD_UNIT_NAME);
}

export function renderSystemdUnit(spec: ServiceSpec): string {
  const lines = [
    '# Written by `synker service install`; remove with `synker service uninstall`.',
    '[Unit]',
    'Description=synker agent: verifies and repairs backup copies of shared folders',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${spec.argv.map(quoteSystemdWord).join(' ')}`,
    `WorkingDirectory=${quoteSystemdWord(spec.workingDirectory)}`,
    ...Object.entries(spec.env).map(([key, value]) => `Environment=${quoteSystemdWord(`${key}=${value}`)}`),
    // A crash loop must not hammer the disk or the peers: wait, and let systemd's start limit apply.
    'Restart=on-failure',
    'RestartSec=10',
    // Scheduled checks hash whole folders: keep the laptop responsive.
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ];
  return lines.join('\n');
}

/**
 * systemd's quoting (systemd.syntax(7)): plain words stay as they are; others get double quotes,
 * backslash before `"` and `\`; `%` is a specifier and `$` an expansion in
 * ExecStart, so both are doubled.
 */
export function quoteSystemdWord(word: string): string {
  if (/[\n\r]/.test(word)) throw new RangeError(`a line break cannot appear in a systemd unit: ${JSON.stringify(word)}`);
  if (/^[\w@+=:,./-]+$/.test(word)) return word;
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}
