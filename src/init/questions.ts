/**
 * The questions `synker init` asks on a terminal. Every answer a flag already
 * gave is not asked again; defaults are what most people want on a laptop.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FolderRole } from '../config/types.js';
import { parseRole } from '../config/types.js';
import { nameProblem } from '../config/device-name.js';
import { addressPart, isMailAddress } from '../config/smtp.js';
import { expandHome, folderIdProblem } from '../config/folder-rules.js';
import { folderIdFromPath, type InitPlan, type PlannedEmail } from './plan.js';
import type { Prompter } from './prompt.js';

/** Well-known providers: SMTP host, port and whether they need an app password. */
export const EMAIL_PROVIDERS: Array<{ domains: string[]; host: string; port: number; secure: boolean; note: string }> = [
  {
    domains: ['gmail.com', 'googlemail.com'],
    host: 'smtp.gmail.com',
    port: 587,
    secure: false,
    note: 'Gmail needs an app password (Google account > Security > 2-Step Verification > App passwords).',
  },
  {
    domains: ['outlook.com', 'hotmail.com', 'live.com'],
    host: 'smtp-mail.outlook.com',
    port: 587,
    secure: false,
    note: 'Outlook.com: use an app password if two-step verification is on.',
  },
  {
    domains: ['icloud.com', 'me.com', 'mac.com'],
    host: 'smtp.mail.me.com',
    port: 587,
    secure: false,
    note: 'iCloud Mail needs an app-specific password (appleid.apple.com > Sign-In and Security).',
  },
  {
    domains: ['yahoo.com'],
    host: 'smtp.mail.yahoo.com',
    port: 465,
    secure: true,
    note: 'Yahoo Mail needs an app password (Account security > Generate app password).',
  },
  {
    domains: ['fastmail.com', 'fastmail.fm'],
    host: 'smtp.fastmail.com',
    port: 465,
    secure: true,
    note: 'Fastmail needs an app password (Settings > Privacy & Security > App passwords).',
  },
];

export function providerFor(address: string): (typeof EMAIL_PROVIDERS)[number] | undefined {
  const domain = addressPart(address).split('@')[1]?.toLowerCase();
  return EMAIL_PROVIDERS.find((p) => domain !== undefined && p.domains.includes(domain));
}

export interface AskedFlags {
  nameGiven: boolean;
  roleGiven: boolean;
  foldersGiven: boolean;
  emailGiven: boolean;
  /** `--email-to` given without what sending needs (server, login): the rest is asked, the address is not. */
  emailTo?: string;
}

/** Fill in what the flags left open by asking. `plan` arrives with flag values and defaults. */
export async function askMissing(prompter: Prompter, plan: InitPlan, given: AskedFlags, defaultRole: FolderRole): Promise<InitPlan> {
  prompter.say('Setting up synker on this machine. Press Enter to keep the value in [brackets].\n');
  const name = given.nameGiven
    ? plan.name
    : await prompter.ask('Name of this machine, as peers and reports show it', {
        default: plan.name,
        validate: (v) => {
          const problem = nameProblem(v);
          return problem === undefined ? undefined : `The name ${problem}.`;
        },
      });
  let role = defaultRole;
  if (!given.roleGiven && !given.foldersGiven) {
    const word = await prompter.ask('Does this machine hold the originals (source) or the copy (backup)?', {
      default: defaultRole,
      validate: (v) => (parseRole(v) ? undefined : 'Answer source or backup.'),
    });
    role = parseRole(word)!;
  }
  const folders = [...plan.folders];
  if (!given.foldersGiven) {
    prompter.say(
      role === 'source'
        ? '\nWhich folder holds the originals (photos, documents)? Leave empty to add folders later with `synker folder add`.'
        : '\nWhere is the backup copy kept (e.g. on an external disk)? Leave empty to add folders later with `synker folder add`.',
    );
    for (;;) {
      const answer = await prompter.ask('Folder path', {
        validate: (v) => (v === '' || existsSync(expandHome(v)) || role === 'backup' ? undefined : `${v} does not exist.`),
      });
      if (answer === '') break;
      const abs = path.resolve(expandHome(answer));
      const id = await prompter.ask('Folder ID (the same word on both machines pairs the folders)', {
        default: folderIdFromPath(abs),
        validate: (v) => folderIdProblem(v) ?? (folders.some((f) => f.id === v) ? 'That ID is already used above.' : undefined),
      });
      folders.push({ id, path: abs, role });
      if (!(await prompter.confirm('Add another folder?', false))) break;
    }
  }
  let email = plan.email;
  if (given.emailTo !== undefined) {
    prompter.say(`\nE-mail reports to ${given.emailTo}:`);
    email = await askEmail(prompter, given.emailTo);
  } else if (!given.emailGiven) {
    const wantsMail = await prompter.confirm(
      role === 'backup'
        ? '\nE-mail a report after each scheduled check?'
        : '\nSet up e-mail reports on this machine (usually done on the backup)?',
      role === 'backup',
    );
    if (wantsMail) email = await askEmail(prompter);
  }
  return { ...plan, name, folders, ...(email ? { email } : {}) };
}

async function askEmail(prompter: Prompter, givenTo?: string): Promise<PlannedEmail> {
  const isAddress = (v: string): string | undefined => (isMailAddress(v) ? undefined : 'That is not an e-mail address.');
  const to = givenTo ?? (await prompter.ask('Send reports to', { validate: isAddress }));
  // The login is the bare address, not "Ann <ann@example.org>".
  const user = await prompter.ask('Log in to the mail server as (empty: no login, e.g. a local relay)', { default: addressPart(to) });
  const provider = providerFor(user || to);
  if (provider) prompter.say(`  ${provider.note}`);
  const host = await prompter.ask('SMTP server', {
    ...(provider ? { default: provider.host } : {}),
    validate: (v) => (/^[A-Za-z0-9.-]+$|^\[?[0-9a-fA-F:.]+\]?$/.test(v) ? undefined : 'Give a host name like smtp.example.org.'),
  });
  const port = Number(
    await prompter.ask('SMTP port (587: STARTTLS, 465: TLS, 25: relay)', {
      default: String(provider?.port ?? 587),
      validate: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'Give a number from 1 to 65535.'),
    }),
  );
  const from = await prompter.ask('Send from', { default: user && isAddress(user) === undefined ? user : to, validate: isAddress });
  const email: PlannedEmail = { to: [to], from, host, port, secure: port === 465 };
  if (user !== '') {
    email.user = user;
    const password = await prompter.secret('Password (an app password where the provider has them; stored in a file only you can read)');
    if (password !== '') email.password = password;
    else
      email.passwordEnv = await prompter.ask('Then the name of an environment variable that will hold it', {
        default: 'SYNKER_SMTP_PASSWORD',
      });
  }
  return email;
}
