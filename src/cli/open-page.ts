/**
 * `synker ui` and `synker status --open`: the running agent's status page,
 * its address with the token (from the data directory: web.json and
 * web-token), printed and opened in the browser (xdg-open, open, or start on
 * Windows). `--no-open`, or SYNKER_NO_BROWSER=1 (the tests' setting), only
 * prints it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { readLocalAgents } from '../discovery/local-agents.js';
import { readWebAddress } from '../web/address-file.js';
import { readToken, tokenFile } from '../web/token.js';

const log = createLogger('cli');

/** The page's address with its token, for the agent of `dataDir`; a clear error when no agent serves it. */
export async function pageAddress(dataDir: string): Promise<string> {
  const address = await readWebAddress(dataDir);
  if (address === undefined) {
    const running = readLocalAgents().find((a) => a.dataDir === path.resolve(dataDir));
    throw running === undefined
      ? new SynkerError('E_WEB_NO_AGENT', 'no synker agent runs for this home, and the agent serves the status page', {
          hint: 'Start it with `synker agent` (or `synker service install` to start it at every login), then run this again.',
        })
      : new SynkerError('E_WEB_NO_AGENT', `the synker agent of this home (process ${running.pid}) runs without its status page`, {
          hint: 'It was started with --no-web, "web": {"enabled": false} in the config, or found its ports taken (its log says which): restart it without.',
        });
  }
  const token = await readToken(tokenFile(dataDir));
  if (token === undefined)
    throw new SynkerError('E_WEB_NO_AGENT', `the status page's token is missing from ${dataDir}`, {
      hint: 'Restart the agent: it makes a new one.',
    });
  return `${address.url}?token=${token}`;
}

/** Prints the address (on stderr after a --json answer), then opens it unless told not to. */
export async function printAndOpen(dataDir: string, open: boolean, to: NodeJS.WriteStream = process.stdout): Promise<void> {
  const url = await pageAddress(dataDir);
  to.write(`${url}\n`);
  if (!open || process.env.SYNKER_NO_BROWSER === '1') return;
  openInBrowser(url);
}

function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
  child.once('error', (err) => log.warn(`could not open a browser (${command}: ${err.message}): open the address above`));
  child.unref();
}
