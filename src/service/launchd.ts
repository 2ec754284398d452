/**
 * A launchd agent (~/Library/LaunchAgents/org.synker.agent.plist): macOS
 * starts it at login (RunAtLoad), restarts it when it exits with an error,
 * and runs it as background work (lower CPU and I/O priority).
 */
import path from 'node:path';
import type { ServiceSpec } from './spec.js';

export const LAUNCHD_LABEL = 'org.synker.agent';

export function launchdPlistPath(home: string): string {
  return path.posix.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

export function launchdLogPath(home: string): string {
  return path.posix.join(home, 'Library', 'Logs', 'synker', 'agent.log');
}

export function renderLaunchdPlist(spec: ServiceSpec): string {
  const log = launchdLogPath(spec.workingDirectory);
  const env = Object.entries(spec.env);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `synker service install`; remove with `synker service uninstall`. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>`,
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...spec.argv.map((arg) => `    <string>${escapeXml(arg)}</string>`),
    '  </array>',
    '  <key>WorkingDirectory</key>',
    `  <string>${escapeXml(spec.workingDirectory)}</string>`,
    ...(env.length === 0
      ? []
      : [
          '  <key>EnvironmentVariables</key>',
          '  <dict>',
          ...env.flatMap(([key, value]) => [`    <key>${escapeXml(key)}</key>`, `    <string>${escapeXml(value)}</string>`]),
          '  </dict>',
        ]),
    '  <key>RunAtLoad</key>',
    '  <true/>',
    // Restart after a crash, not after a clean stop (SIGTERM at logout exits 0).
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>10</integer>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    '  <key>StandardOutPath</key>',
    `  <string>${escapeXml(log)}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${escapeXml(log)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ];
  return lines.join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
