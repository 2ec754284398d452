/**
 * `synker ui` and `synker status --open`: the running agent's status page,
 * its address with the token (from the data directory: web.json and
 * web-token), printed and opened in the browser (xdg-open, open, or cmd's
 * start on Windows, the address quoted: browserCommand). `--no-open`, or
 * SYNKER_NO_BROWSER=1 (the tests' setting), only prints it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SynkerError } from '../base/errors.js';
import { printablePath } from '../base/printable.js';
import { createLogger } from '../base/log.js';
import { readLocalAgents } from '../discovery/local-agents.js';
import { webAddressFile, webAddressState, type WebAddressState } from '../web/address-file.js';
import { readToken, tokenFile } from '../web/token.js';

const log = createLogger('cli');

/** The page's address with its token, for the agent of `dataDir`; a clear error when no agent serves it. */
export async function pageAddress(dataDir: string): Promise<string> {
  const read = await webAddressState(dataDir);
  if (read.state !== 'ok') throw noPage(dataDir, read);
  const address = read.address;
  const token = await readToken(tokenFile(dataDir));
  if (token === undefined)
    throw new SynkerError('E_WEB_NO_AGENT', `the status page's token is missing from ${dataDir}`, {
      hint: 'Restart the agent: it makes a new one.',
    });
  // In the fragment: a browser sends it to no server (the page moves it into its tab's storage and out of the address).
  return `${address.url}#token=${token}`;
}

/**
 * Why there is no page to open, from what web.json says and whether an agent of this home runs. An agent
 * writes web.json once its page listens and only then, so a running agent and no file is either an agent
 * without its page or a file deleted since: both are said, as the restart that settles it.
 */
function noPage(dataDir: string, read: Exclude<WebAddressState, { state: 'ok' }>): SynkerError {
  const running = readLocalAgents().find((a) => a.dataDir === path.resolve(dataDir));
  if (running === undefined)
    return new SynkerError('E_WEB_NO_AGENT', 'no synker agent runs for this home, and the agent serves the status page', {
      hint: 'Start it with `synker agent` (or `synker service install` to start it at every login), then run this again.',
    });
  const file = printablePath(webAddressFile(dataDir));
  const agent = `the synker agent of this home (process ${running.pid})`;
  const restart = 'Restart the agent: its page writes web.json again as it starts';
  if (read.state === 'damaged')
    return new SynkerError('E_WEB_ADDRESS_FILE', `${agent} runs, but ${file}, where its status page's address is kept, is damaged`, {
      hint: `${restart}.`,
    });
  if (read.state === 'missing')
    return new SynkerError(
      'E_WEB_ADDRESS_FILE',
      `${agent} runs, but ${file}, where its status page's address is kept, is missing: the agent runs without its page, or the file was deleted`,
      {
        hint: `${restart}; if this comes back, its log says why it has no page (--no-web, "web": {"enabled": false} in the config, or its ports taken).`,
      },
    );
  // The address of an agent that is gone: the running one never wrote its own, so it has no page.
  return new SynkerError('E_WEB_NO_AGENT', `${agent} runs without its status page`, {
    hint: 'It was started with --no-web, "web": {"enabled": false} in the config, or found its ports taken (its log says which): restart it without.',
  });
}

/**
 * Prints the address (on stderr after a --json answer), then opens it unless told not to. A browser that
 * could not be opened is said on stderr with the address to open by hand; the exit stays 0 (the address,
 * printed, is the result).
 */
export async function printAndOpen(dataDir: string, open: boolean, to: NodeJS.WriteStream = process.stdout): Promise<void> {
  const url = await pageAddress(dataDir);
  to.write(`${url}\n`);
  if (!open || process.env.SYNKER_NO_BROWSER === '1') return;
  const failure = await openerFailure(openInBrowser(url));
  if (failure !== undefined) log.warn(`could not open a browser (${failure}): open this address by hand:\n  ${url}`);
}

/**
 * How long `synker ui` waits to hear whether the opener failed. xdg-open, open and start hand the address
 * to the browser and end at once; an opener still running after this has started a browser in front of it.
 */
export const OPENER_WAIT_MS = 5000;

/** Why the opener `child` failed (it could not start, or ended with an error), or undefined once it did its job. */
export function openerFailure(child: ChildProcess, waitMs = OPENER_WAIT_MS): Promise<string | undefined> {
  const command = child.spawnfile;
  // Held while waiting (openInBrowser lets it go), so this process hears how it ended; let go again after.
  child.ref();
  return new Promise((resolve) => {
    const done = (why: string | undefined): void => {
      clearTimeout(timer);
      child.unref();
      resolve(why);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    child.once('error', (err) => done(`${command}: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (code === 0) done(undefined);
      else done(code !== null ? `${command} exited with code ${code}` : `${command} was ended by ${signal}`);
    });
  });
}

/** The environment variable that carries the address to cmd on Windows (below). */
export const URL_VARIABLE = 'SYNKER_OPEN_URL';

export interface BrowserCommand {
  command: string;
  args: string[];
  /** Windows: pass `args` as written, without Node's quoting (for cmd). */
  windowsVerbatimArguments: boolean;
  /** Variables to add to the environment. */
  env: Record<string, string>;
}

/** What opens `url` in the user's browser on `platform`. */
export function browserCommand(url: string, platform: NodeJS.Platform = process.platform): BrowserCommand {
  const href = new URL(url).href; // a quote or a space is percent-encoded here: none reaches a command line
  if (platform === 'darwin') return { command: 'open', args: [href], windowsVerbatimArguments: false, env: {} };
  if (platform !== 'win32') return { command: 'xdg-open', args: [href], windowsVerbatimArguments: false, env: {} };
  // `start` is cmd's own command, and cmd reads its command line by rules of its own: Node's quoting (made
  // for programs that parse it as the C runtime does) would give `start` a title of \"\" and the address
  // bare, where an & ends the command, a ^ vanishes and %NAME% is replaced. So the line is written here and
  // passed as it is: /d skips AutoRun, /s makes cmd take everything between the first and the last quote
  // as the command, `""` is start's (empty) window title, and the address comes quoted from a variable:
  // cmd expands %VARIABLE% once and does not look into what it put there, so a % in the address (a
  // percent-encoded byte) stays as it is, and the quotes keep & and ^ literal.
  return {
    command: 'cmd.exe',
    args: ['/d', '/s', '/c', `"start "" "%${URL_VARIABLE}%""`],
    windowsVerbatimArguments: true,
    env: { [URL_VARIABLE]: href },
  };
}

/** Starts the browser on `url`, not waiting for it; a browser that cannot start is a warning. */
export function openInBrowser(url: string): ChildProcess {
  const { command, args, windowsVerbatimArguments, env } = browserCommand(url);
  const child = spawn(command, args, {
    stdio: 'ignore',
    detached: true,
    windowsHide: true,
    windowsVerbatimArguments,
    env: { ...process.env, ...env },
  });
  // Said by openerFailure; without a listener an opener that cannot start would end this process.
  child.on('error', () => {});
  child.unref();
  return child;
}
