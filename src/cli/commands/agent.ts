/**
 * `synker agent [--port N] [--listen ADDRESS] [--name NAME] [--no-discovery] [--interface IFACE]... [--no-schedule]
 *   [--web-port N] [--web-listen ADDRESS] [--no-web]`:
 * serve this device's folders to trusted peers until SIGINT or SIGTERM.
 * Logs go to stderr; config changes apply without a restart.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { createLogger } from '../../base/log.js';
import { startAgent } from '../../agent/agent.js';
import { nameProblem } from '../../config/device-name.js';
import { errnoCode, SynkerError, UsageError } from '../../base/errors.js';
import { loadCliContext } from '../context.js';
import { addExamples } from '../help.js';
import { action } from '../run.js';

interface AgentFlags {
  interface: string[];
  port?: string;
  listen?: string;
  name?: string;
  discovery: boolean;
  schedule: boolean;
  web: boolean;
  webPort?: string;
  webListen?: string;
}

const log = createLogger('agent');

export function register(program: Command): void {
  const command = program
    .command('agent')
    .description('run the agent: serve the folders in the config to trusted devices, advertise on the LAN, run scheduled checks')
    .option('--port <n>', "TCP port to listen on (default: the config's port; 0 picks a free one)")
    .option(
      '--listen <address>',
      'accept connections on this local address only, and announce only it over mDNS, e.g. 127.0.0.1 (default: every interface)',
    )
    .option('--name <name>', "the name peers see (default: the config's name)")
    .option('--no-discovery', "do not advertise over mDNS (peers then need this machine's address)")
    .option(
      '--interface <name>',
      'advertise only on this network interface (repeatable; default: every LAN interface)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--no-schedule', 'do not run the scheduled checks of backup folders')
    .option('--web-port <n>', 'serve the status page on this port (default: 7781, or the next free one; 0 picks any free one)')
    .option(
      '--web-listen <address>',
      'serve the status page on this address (default 127.0.0.1: this machine only; another address lets the LAN reach it, still behind its token)',
    )
    .option('--no-web', 'no status page')
    .action(
      action(async (flags: AgentFlags, cmd: Command) => {
        const port = flags.port === undefined ? undefined : parsePort(flags.port);
        const webPort = flags.webPort === undefined ? undefined : parsePort(flags.webPort, '--web-port');
        if (flags.webListen !== undefined && isIP(flags.webListen) === 0)
          throw new UsageError(
            `--web-listen must be an IP address of this machine, got "${flags.webListen}"`,
            'e.g. --web-listen 127.0.0.1 (this machine only, the default) or --web-listen 192.168.1.20',
          );
        // Peers refuse a hello whose name breaks these rules: say so here, not on every peer.
        const nameIssue = flags.name === undefined ? undefined : nameProblem(flags.name);
        if (nameIssue !== undefined) throw new UsageError(`--name ${nameIssue}`);
        if (flags.listen !== undefined && isIP(flags.listen) === 0)
          throw new UsageError(
            `--listen must be an IP address of this machine, got "${flags.listen}"`,
            'e.g. --listen 127.0.0.1 (this machine only) or --listen 192.168.1.20',
          );
        const ctx = await loadCliContext(cmd.optsWithGlobals(), { watch: true });
        // Listening for the signal before starting: a stop asked for during start-up still stops the agent cleanly.
        const stopping = stopSignal();
        try {
          const agent = await startAgent({
            store: ctx.store,
            identity: await ctx.identity(),
            state: await ctx.state(),
            dataDir: ctx.dirs.data,
            configPath: ctx.configPath,
            discovery: flags.discovery,
            interfaces: flags.interface,
            schedule: flags.schedule,
            web: {
              ...(flags.web === false ? { enabled: false } : {}),
              ...(webPort !== undefined ? { port: webPort } : {}),
              ...(flags.webListen !== undefined ? { listen: flags.webListen } : {}),
            },
            ...(port !== undefined ? { port } : {}),
            ...(flags.listen !== undefined ? { host: flags.listen } : {}),
            ...(flags.name !== undefined ? { name: flags.name.trim() } : {}),
          }).catch((err: unknown) => {
            throw listenError(err, flags.listen);
          });
          const signal = await stopping;
          log.info(`${signal}: stopping (sessions are told the agent is stopping)`);
          await agent.stop();
          log.info('stopped');
        } finally {
          await ctx.close();
        }
      }),
    );
  addExamples(command, [
    ['synker agent', 'serve the folders in the config until Ctrl-C'],
    ['synker agent --port 7781 --name nas', "another port and name than the config's"],
    ['synker agent --no-discovery', 'no mDNS (peers list this machine under "peers")'],
    ['synker agent --web-port 8080', 'the status page on another port (synker ui finds it)'],
  ]);
}

function parsePort(text: string, flag = '--port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${flag} must be a number from 0 to 65535, got "${text}"`);
  return port;
}

/** What stops the agent from listening, in words: an address this machine lacks, a port already taken. */
function listenError(err: unknown, listen: string | undefined): unknown {
  switch (errnoCode(err)) {
    case 'EADDRNOTAVAIL':
      return new UsageError(
        `--listen ${listen}: no interface of this machine has that address`,
        "Give one of this machine's addresses (ip addr lists them), or leave --listen out.",
      );
    case 'EADDRINUSE': {
      // Node's listen error carries the address and port as fields.
      const { address, port } = err as { address?: string; port?: number };
      return new SynkerError(
        'E_PORT_IN_USE',
        `cannot listen: address already in use ${address ?? 'the address'}${port === undefined ? '' : `:${port}`}`,
        {
          cause: err,
          hint: 'Another program (or another synker agent) holds that port: stop it, or choose another with --port (or "port" in the config); synker doctor shows who answers there.',
        },
      );
    }
    default:
      return err;
  }
}

/** Resolves with the first SIGINT or SIGTERM; a second one exits at once. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = (again: NodeJS.Signals): void => {
        log.warn(`${again} again: exiting without waiting`);
        process.exit(2);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
