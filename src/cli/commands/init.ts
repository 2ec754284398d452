/** `synker init`: set this machine up — identity, agent name, folders, e-mail — and say what to do next. */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE_NAME, defaultAgentName } from '../../config/defaults.js';
import { formatDeviceId } from '../../identity/device-id.js';
import { synkerDirs } from '../../dirs/dirs.js';
import { ownDirsNoticeFor } from '../../dirs/own-dirs.js';
import type { FolderRole } from '../../config/types.js';
import { UsageError } from '../../base/errors.js';
import { printablePath } from '../../base/printable.js';
import { applyInit, type InitResult } from '../../init/apply.js';
import {
  checkAddress,
  checkName,
  checkPlan,
  checkPort,
  checkRole,
  parseFolderSpec,
  type InitPlan,
  type PlannedEmail,
} from '../../init/plan.js';
import { createPrompter, PromptClosedError } from '../../init/prompt.js';
import { askMissing, providerFor } from '../../init/questions.js';
import { addressPart } from '../../config/smtp.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

interface InitFlags {
  name?: string;
  role?: string;
  folder: string[];
  port?: string;
  emailTo: string[];
  emailFrom?: string;
  smtpHost?: string;
  smtpPort?: string;
  smtpUser?: string;
  smtpPasswordEnv?: string;
  smtpPasswordFile?: string;
  email: boolean;
  yes?: boolean;
  force?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  const init = program
    .command('init')
    .description('set up this machine: identity, agent name, folders and e-mail reports (asks on a terminal; --yes for scripts)')
    .option('--name <name>', 'name of this machine as peers and reports show it (default: the host name)')
    .option('--role <role>', 'source (alias master: holds the originals) or backup (alias slave: holds the copy)')
    .option('--folder <[id=]path>', 'a folder to protect; the ID pairs it with the other machine (repeatable)', collect, [])
    .option('--port <n>', 'TCP port of the agent')
    .option('--email-to <address>', 'send reports to this address (repeatable)', collect, [])
    .option('--email-from <address>', 'sender address (default: the login or the first recipient)')
    .option('--smtp-host <host>', 'mail server (default for Gmail, Outlook.com, iCloud, Yahoo, Fastmail addresses)')
    .option('--smtp-port <n>', 'mail server port: 587 STARTTLS (default), 465 TLS, 25 relay')
    .option('--smtp-user <login>', 'login at the mail server')
    .option('--smtp-password-env <var>', 'environment variable that holds the password')
    .option('--smtp-password-file <file>', 'file (mode 0600) that holds the password')
    .option('--no-email', 'do not set up e-mail reports')
    .option('-y, --yes', 'ask nothing: flags and defaults only (for scripts)')
    .option(
      '--force',
      'rewrite an existing set-up: the name, and the folders and e-mail given (those not given again are kept; --no-email removes e-mail); the identity and trusted devices are kept',
    )
    .option('--json', 'print the result as JSON')
    .action(
      action(async (flags: InitFlags, command: Command) => {
        const globals = command.optsWithGlobals() as { config?: string };
        const dirs = synkerDirs();
        const configFile = path.resolve(globals.config ?? path.join(dirs.config, CONFIG_FILE_NAME));
        const role: FolderRole = flags.role !== undefined ? checkRole(flags.role) : 'source';
        let plan: InitPlan = {
          name: flags.name?.trim() || defaultAgentName(),
          // 0: any free port, as in the config (docs/configuration.md).
          ...(flags.port !== undefined ? { port: checkPort(flags.port, '--port', { allowZero: true }) } : {}),
          folders: flags.folder.map((spec) => parseFolderSpec(spec, role)),
          // On a terminal, an --email-to without what sending needs asks for the rest (below) rather than failing.
          ...(flags.email && flags.emailTo.length > 0 && (flags.yes || emailFlagsComplete(flags)) ? { email: emailFromFlags(flags) } : {}),
        };
        // A name given that breaks the rule is refused before any question is asked (and checkPlan checks again).
        if (flags.name !== undefined) checkName(plan.name);
        const interactive = !flags.yes;
        if (interactive) {
          if (!process.stdin.isTTY) {
            throw new UsageError(
              'there is no terminal to ask the questions on',
              'Pass --yes, with flags for what to set up (synker init --help lists them).',
            );
          }
          const prompter = createPrompter(process.stdin, process.stderr);
          try {
            plan = await askMissing(
              prompter,
              plan,
              {
                nameGiven: flags.name !== undefined,
                roleGiven: flags.role !== undefined,
                foldersGiven: flags.folder.length > 0,
                emailGiven: flags.emailTo.length > 0 || !flags.email,
                ...(flags.email && flags.emailTo.length > 0 && plan.email === undefined
                  ? { emailTo: checkAddress(flags.emailTo[0]!, '--email-to') }
                  : {}),
              },
              role,
            );
          } catch (err) {
            if (err instanceof PromptClosedError)
              throw new UsageError('init was interrupted before every question was answered; nothing was written');
            throw err;
          } finally {
            prompter.close();
          }
        }
        checkPlan(plan);
        const result = await applyInit(plan, {
          configFile,
          configDir: dirs.config,
          force: Boolean(flags.force),
          // With --force, what was not given again is kept, not dropped: folders, and e-mail unless --no-email.
          keepFolders: plan.folders.length === 0,
          keepEmail: plan.email === undefined && flags.email,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(jsonResult(result, configFile))}\n`);
        else process.stdout.write(describe(result, configFile, plan, role));
        // Said once, for the folders this run added.
        for (const f of plan.folders) {
          const own = ownDirsNoticeFor(f.path);
          if (own !== undefined) process.stderr.write(`warning: ${own}\n`);
        }
      }),
    );
  addExamples(init, [
    ['synker init', 'answer a few questions'],
    ['synker init --yes --role source --folder pictures=~/Pictures', 'the laptop with the originals'],
    [
      'synker init --yes --role backup --folder pictures=/media/disk/pictures --email-to me@gmail.com --smtp-password-file ~/.gmail-app-password',
      'the machine that keeps the copy and mails reports',
    ],
  ]);
}

/** The flags say where to send and how to log in: a server (given or a provider's) and, for a provider, a password source. */
function emailFlagsComplete(flags: InitFlags): boolean {
  const hasPassword = flags.smtpPasswordEnv !== undefined || flags.smtpPasswordFile !== undefined;
  const provider = providerFor(flags.smtpUser?.trim() || flags.emailTo[0]!);
  return flags.smtpHost !== undefined ? !(flags.smtpUser !== undefined && !hasPassword) : provider !== undefined && hasPassword;
}

function emailFromFlags(flags: InitFlags): PlannedEmail {
  const to = flags.emailTo.map((a) => checkAddress(a, '--email-to'));
  // A password without a login name: the providers' login is the mail address itself.
  const hasPassword = flags.smtpPasswordEnv !== undefined || flags.smtpPasswordFile !== undefined;
  const user = flags.smtpUser?.trim() || (hasPassword ? addressPart(to[0]!) : undefined);
  const provider = providerFor(user ?? to[0]!);
  const host = flags.smtpHost?.trim() || provider?.host;
  if (!host)
    throw new UsageError('--smtp-host is needed to send e-mail', "Give your provider's SMTP server, e.g. --smtp-host smtp.example.org.");
  // The public providers never relay without a login: a config without one could never send.
  if (provider !== undefined && !flags.smtpHost && !hasPassword) {
    throw new UsageError(
      `${provider.host} needs a login: give the password's source`,
      `${provider.note} Put it in a file only you can read and pass --smtp-password-file FILE, or pass --smtp-password-env VARIABLE.`,
    );
  }
  const port = flags.smtpPort !== undefined ? checkPort(flags.smtpPort, '--smtp-port') : flags.smtpHost ? 587 : (provider?.port ?? 587);
  const from = flags.emailFrom !== undefined ? checkAddress(flags.emailFrom, '--email-from') : user?.includes('@') ? user : to[0]!;
  return {
    to,
    from,
    host,
    port,
    secure: port === 465,
    ...(user ? { user } : {}),
    ...(flags.smtpPasswordEnv !== undefined ? { passwordEnv: flags.smtpPasswordEnv } : {}),
    ...(flags.smtpPasswordFile !== undefined ? { passwordFile: flags.smtpPasswordFile.replace(/^~(?=$|\/)/, os.homedir()) } : {}),
  };
}

function describe(result: InitResult, configFile: string, plan: InitPlan, role: FolderRole): string {
  const c = result.config;
  const id = formatDeviceId(result.identity.deviceId);
  const rows: Array<[string, string]> = [
    ['Name', c.name],
    ['Device ID', `${id}${result.identityCreated ? '  (new)' : ''}`],
    ['Config', configFile],
    ...c.folders.map((f): [string, string] => [
      'Folder',
      `${f.id}  ${f.path}  (${f.role}${result.createdFolders.includes(f.path) ? ', created' : ''}${result.kept.folders.includes(f.id) ? ', kept' : ''})`,
    ]),
  ];
  const email = plan.email;
  if (email) {
    const login = email.user ? `, login ${email.user}` : '';
    const secret = result.passwordFile
      ? ` (password in ${result.passwordFile})`
      : email.passwordEnv
        ? ` (password from $${email.passwordEnv})`
        : email.passwordFile
          ? ` (password in ${email.passwordFile})`
          : '';
    rows.push(['E-mail', `reports to ${email.to.join(', ')} via ${email.host}:${email.port}${login}${secret}`]);
  } else if (result.kept.email) {
    rows.push(['E-mail', 'kept as it was (--no-email removes it)']);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const folder = c.folders[0];
  const isSource = (folder?.role ?? role) === 'source';
  const otherRole = isSource ? 'backup' : 'source';
  const folderArg = folder ? ` --folder ${folder.id}=PATH` : '';
  const steps = [
    `On the other machine:    synker init --role ${otherRole}${folderArg}`,
    `Trust each other. Here:  synker trust <ID the other machine printed> --name OTHER\n` +
      `                   There:  synker trust ${id} --name ${printablePath(c.name)}`,
    folder
      ? `Share the folder here:   synker folder share ${folder.id} OTHER   (and there the same)`
      : 'Add a folder:            synker folder add ID PATH --role source|backup',
    'On both machines:        synker service install   (the agent starts at every login)',
    `Then on the backup:      synker check${folder ? ` ${folder.id}` : ''}   (synker doctor when something is in the way)`,
  ];
  return [
    'synker is set up on this machine.',
    '',
    // Names and paths (SYNKER_HOME, a folder's) as every name is shown: a control character never reaches the terminal.
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${printablePath(v)}`),
    '',
    'Next:',
    ...steps.map((s, i) => `  ${i + 1}. ${s.replace(/\n/g, '\n   ')}`),
    '',
  ].join('\n');
}

function jsonResult(result: InitResult, configFile: string): Record<string, unknown> {
  return {
    name: result.config.name,
    deviceId: result.identity.deviceId,
    deviceIdFormatted: formatDeviceId(result.identity.deviceId),
    identityCreated: result.identityCreated,
    configFile,
    folders: result.config.folders.map((f) => ({ id: f.id, path: f.path, role: f.role })),
    createdFolders: result.createdFolders,
    kept: result.kept,
    email: result.config.smtp ?? null,
  };
}
