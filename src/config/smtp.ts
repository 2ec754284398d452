/**
 * The `smtp` section of the config: where reports are sent and how. The
 * password is never stored in the config itself: it comes from an environment
 * variable (`passwordEnv`) or from a file only the user can read
 * (`passwordFile`), so it never appears on a command line, in `ps`, or in a
 * config file that gets copied around. Documented in docs/configuration.md.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import { SettingError } from './config-error.js';

/** How the connection is protected: implicit TLS (port 465), STARTTLS, or plain. */
export type StartTlsPolicy = 'required' | 'opportunistic' | 'never';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (usually port 465). */
  secure: boolean;
  /** STARTTLS on a plain connection: required (default with a user), opportunistic, never. */
  starttls: StartTlsPolicy;
  /** Verify the server's certificate (default true); false only for a self-signed relay you control. */
  tlsVerify: boolean;
  /** Login name; without it, no authentication is attempted. */
  user?: string;
  /** Name of the environment variable that holds the password. */
  passwordEnv?: string;
  /** Path of a file (mode 0600 or stricter) that holds the password. */
  passwordFile?: string;
  /** Sender address, e.g. `"synker on nas" <synker@example.org>`. */
  from: string;
  /** One or more recipients. */
  to: string[];
  /** Name this machine gives in EHLO (default: the host name). */
  clientName: string;
  /** Connection, greeting and socket timeout in milliseconds. */
  timeoutMs: number;
}

/** A wrong or missing e-mail setting; `key` names it (`smtp.port`) when the error is about one. */
export class SmtpConfigError extends SettingError {
  constructor(message: string, hint: string, options: { key?: string; cause?: unknown } = {}) {
    super('E_SMTP_CONFIG', message, { hint, ...options });
  }
}

const KNOWN_KEYS = new Set([
  'host',
  'port',
  'secure',
  'starttls',
  'tlsVerify',
  'user',
  'passwordEnv',
  'passwordFile',
  'password',
  'from',
  'to',
  'clientName',
  'timeout',
]);

/** A very small sanity check: one @, something on both sides, no spaces or angle brackets in the address. */
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/** The address itself: `ann@example.org` from `Ann <ann@example.org>`. */
export function addressPart(value: string): string {
  const angle = /<([^<>]*)>\s*$/.exec(value);
  return (angle ? angle[1]! : value).trim();
}

/** `a@b` or `Name <a@b>`: the forms smtp.from and smtp.to accept (init and test-email use the same check). */
export function isMailAddress(value: string): boolean {
  return ADDRESS.test(addressPart(value));
}

function checkAddress(key: string, value: unknown): string {
  if (typeof value !== 'string' || !isMailAddress(value)) {
    throw new SmtpConfigError(
      `smtp.${key} is not an e-mail address: ${JSON.stringify(value)}`,
      `Set smtp.${key} to an address like "backup@example.org" or "Backup <backup@example.org>".`,
      { key: `smtp.${key}` },
    );
  }
  return value.trim();
}

function parseTimeout(value: unknown): number {
  if (value === undefined) return 30_000;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value * 1000);
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
    if (match) {
      const unit = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000;
      const ms = Math.round(Number(match[1]) * unit);
      if (ms > 0) return ms;
    }
  }
  throw new SmtpConfigError(`smtp.timeout is not a duration: ${JSON.stringify(value)}`, 'Use seconds (30) or a value like "30s" or "2m".', {
    key: 'smtp.timeout',
  });
}

/**
 * Validates the raw `smtp` object from the config file. Every mistake is
 * reported with the key to fix; unknown keys are refused so a typo
 * (`passwordFle`) does not silently disable a setting.
 */
export function parseSmtpSettings(raw: unknown): SmtpSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SmtpConfigError('the smtp section of the config must be an object', 'See docs/configuration.md, section "smtp".');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new SmtpConfigError(
        `unknown setting smtp.${key}`,
        `Known settings: ${[...KNOWN_KEYS].filter((k) => k !== 'password').join(', ')}.`,
        { key: `smtp.${key}` },
      );
    }
  }
  if ('password' in obj) {
    throw new SmtpConfigError(
      'smtp.password is not allowed: the password must not be stored in the config file',
      'Put it in a file only you can read and set smtp.passwordFile, or set smtp.passwordEnv to the name of an environment variable.',
      { key: 'smtp.password' },
    );
  }
  const host = obj.host;
  if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host.trim())) {
    throw new SmtpConfigError(
      'smtp.host is missing or not a host name',
      'Set smtp.host to your mail server, e.g. "smtp.example.org" or "127.0.0.1".',
      { key: 'smtp.host' },
    );
  }
  const secure = obj.secure ?? false;
  if (typeof secure !== 'boolean')
    throw new SmtpConfigError(
      'smtp.secure must be true or false',
      'true: TLS from the start (port 465); false: plain connection upgraded with STARTTLS.',
      { key: 'smtp.secure' },
    );
  const port = obj.port ?? (secure ? 465 : 587);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SmtpConfigError(
      `smtp.port must be a number from 1 to 65535, not ${JSON.stringify(port)}`,
      'Usual ports: 587 (STARTTLS), 465 (secure: true), 25 (local relay).',
      { key: 'smtp.port' },
    );
  }
  const user = obj.user;
  if (user !== undefined && (typeof user !== 'string' || user === ''))
    throw new SmtpConfigError('smtp.user must be a non-empty string', 'Remove smtp.user to send without logging in.', { key: 'smtp.user' });
  const starttls = obj.starttls ?? (user === undefined ? 'opportunistic' : 'required');
  if (starttls !== 'required' && starttls !== 'opportunistic' && starttls !== 'never') {
    throw new SmtpConfigError(
      `smtp.starttls must be "required", "opportunistic" or "never", not ${JSON.stringify(starttls)}`,
      'Use "required" unless the server is a local relay without TLS.',
      { key: 'smtp.starttls' },
    );
  }
  const tlsVerify = obj.tlsVerify ?? true;
  if (typeof tlsVerify !== 'boolean')
    throw new SmtpConfigError(
      'smtp.tlsVerify must be true or false',
      'Leave it out (true) unless your relay uses a self-signed certificate.',
      { key: 'smtp.tlsVerify' },
    );
  const passwordEnv = obj.passwordEnv;
  if (passwordEnv !== undefined && (typeof passwordEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv))) {
    throw new SmtpConfigError(
      'smtp.passwordEnv must be the name of an environment variable, like "SYNKER_SMTP_PASSWORD"',
      "Give the variable's name, not the password.",
      { key: 'smtp.passwordEnv' },
    );
  }
  const passwordFile = obj.passwordFile;
  if (passwordFile !== undefined && (typeof passwordFile !== 'string' || !path.isAbsolute(passwordFile))) {
    throw new SmtpConfigError('smtp.passwordFile must be an absolute path', 'E.g. "/home/me/.config/synker/smtp-password" (mode 0600).', {
      key: 'smtp.passwordFile',
    });
  }
  if (passwordEnv !== undefined && passwordFile !== undefined) {
    throw new SmtpConfigError('smtp.passwordEnv and smtp.passwordFile are both set', 'Keep one of them.', { key: 'smtp.passwordEnv' });
  }
  if (user !== undefined && passwordEnv === undefined && passwordFile === undefined) {
    throw new SmtpConfigError(
      'smtp.user is set but no password source is',
      'Set smtp.passwordFile (a file only you can read) or smtp.passwordEnv (an environment variable name).',
      { key: 'smtp.user' },
    );
  }
  const from = checkAddress('from', obj.from);
  const rawTo = obj.to;
  const toList = typeof rawTo === 'string' ? [rawTo] : rawTo;
  if (!Array.isArray(toList) || toList.length === 0) {
    throw new SmtpConfigError('smtp.to must list at least one recipient', 'E.g. "to": ["me@example.org", "admin@example.org"].', {
      key: 'smtp.to',
    });
  }
  const to = toList.map((address) => checkAddress('to', address));
  const clientName = obj.clientName ?? os.hostname();
  if (typeof clientName !== 'string' || clientName === '' || /\s/.test(clientName)) {
    throw new SmtpConfigError('smtp.clientName must be a host name without spaces', "Leave it out to use this machine's host name.", {
      key: 'smtp.clientName',
    });
  }
  const settings: SmtpSettings = {
    host: host.trim(),
    port,
    secure,
    starttls,
    tlsVerify,
    from,
    to,
    clientName,
    timeoutMs: parseTimeout(obj.timeout),
  };
  if (user !== undefined) settings.user = user;
  if (passwordEnv !== undefined) settings.passwordEnv = passwordEnv;
  if (passwordFile !== undefined) settings.passwordFile = passwordFile;
  return settings;
}

/**
 * The password for `settings.user`, or undefined when no login is set up.
 * A password file that group or others can read is refused: a password
 * anyone on the machine can read is not a secret.
 */
export function readSmtpPassword(settings: SmtpSettings, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (settings.user === undefined) return undefined;
  if (settings.passwordEnv !== undefined) {
    const value = env[settings.passwordEnv];
    if (value === undefined || value === '') {
      throw new SmtpConfigError(
        `the environment variable ${settings.passwordEnv} (smtp.passwordEnv) is not set`,
        `Set ${settings.passwordEnv} in the environment of the synker agent (e.g. its service unit), or use smtp.passwordFile.`,
        { key: 'smtp.passwordEnv' },
      );
    }
    return value;
  }
  const file = settings.passwordFile!;
  const shown = printablePath(file); // a config's path, shown in a message on one line

  let mode: number;
  let uid: number;
  try {
    const st = statSync(file);
    mode = st.mode;
    uid = st.uid;
    if (!st.isFile())
      throw new SmtpConfigError(`smtp.passwordFile ${shown} is not a file`, 'Point smtp.passwordFile at a file holding the password.', {
        key: 'smtp.passwordFile',
      });
  } catch (err) {
    if (err instanceof SmtpConfigError) throw err;
    throw new SmtpConfigError(
      `cannot read smtp.passwordFile ${shown}: ${errnoCode(err) ?? String(err)}`,
      'Create the file with the password on one line and run: chmod 600 FILE',
      { key: 'smtp.passwordFile', cause: err },
    );
  }
  if (process.platform !== 'win32') {
    if ((mode & 0o077) !== 0) {
      throw new SmtpConfigError(
        `smtp.passwordFile ${shown} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(3, '0')})`,
        `Run: chmod 600 ${shown}`,
        { key: 'smtp.passwordFile' },
      );
    }
    const me = process.getuid?.();
    if (me !== undefined && uid !== me) {
      throw new SmtpConfigError(`smtp.passwordFile ${shown} belongs to another user (uid ${uid})`, `Run: chown ${me} ${shown}`, {
        key: 'smtp.passwordFile',
      });
    }
  }
  const password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (password === '')
    throw new SmtpConfigError(`smtp.passwordFile ${shown} is empty`, 'Write the password into the file (one line).', {
      key: 'smtp.passwordFile',
    });
  return password;
}
