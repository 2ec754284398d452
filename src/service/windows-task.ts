/**
 * A Windows Scheduled Task that starts the agent at logon, in the user's own
 * account with least privilege, restarts it after a failure and never stops
 * it for running too long. Registered with `schtasks /Create /XML`, which
 * wants the XML in UTF-16 (written with a byte-order mark).
 */
import path from 'node:path';
import { escapeXml } from './launchd.js';
import type { ServiceSpec } from './spec.js';

export const WINDOWS_TASK_NAME = 'synker agent';

/** The XML is kept in synker's config folder so `schtasks` can read it and the user can see what was registered. */
export function windowsTaskXmlPath(configDir: string): string {
  return path.win32.join(configDir, 'synker-agent-task.xml');
}

export function renderWindowsTask(spec: ServiceSpec): string {
  const { command, args } = windowsCommandLine(spec);
  const lines = [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<!-- Written by `synker service install`; remove with `synker service uninstall`. -->',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>synker agent: verifies and repairs backup copies of shared folders</Description>',
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <LogonTrigger>',
    '      <Enabled>true</Enabled>',
    `      <UserId>${escapeXml(spec.user)}</UserId>`,
    '    </LogonTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    `      <UserId>${escapeXml(spec.user)}</UserId>`,
    '      <LogonType>InteractiveToken</LogonType>',
    '      <RunLevel>LeastPrivilege</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    // Laptops: the agent must keep running on battery.
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <RestartOnFailure>',
    '      <Interval>PT1M</Interval>',
    '      <Count>999</Count>',
    '    </RestartOnFailure>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <Priority>7</Priority>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${escapeXml(command)}</Command>`,
    `      <Arguments>${escapeXml(args)}</Arguments>`,
    `      <WorkingDirectory>${escapeXml(spec.workingDirectory)}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ];
  return lines.join('\r\n');
}

/**
 * Task Scheduler has no environment setting: when the agent needs one
 * (SYNKER_HOME), cmd.exe sets it and starts node.
 */
function windowsCommandLine(spec: ServiceSpec): { command: string; args: string } {
  const [program, ...rest] = spec.argv as [string, ...string[]];
  const env = Object.entries(spec.env);
  if (env.length === 0) return { command: program, args: rest.map(quoteWindowsArg).join(' ') };
  for (const [key, value] of env) {
    if (/["%\r\n]/.test(key + value)) throw new RangeError(`cmd.exe cannot carry ${key}=${value} safely (it contains " or %)`);
  }
  const sets = env.map(([key, value]) => `set "${key}=${value}"&&`).join(' ');
  return { command: 'cmd.exe', args: `/d /c ${sets} ${spec.argv.map(quoteWindowsArg).join(' ')}` };
}

/** Quote one argument the way CommandLineToArgvW (and Node on Windows) reads it back. */
export function quoteWindowsArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  // Backslashes are literal except before a quote: double those, then escape the quote.
  const escaped = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1');
  return `"${escaped}"`;
}

/** `schtasks /XML` reads UTF-16 little-endian with a byte-order mark. */
export function encodeUtf16WithBom(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
