/**
 * `synker demo`: the whole job on one machine, with the real parts. Sample
 * folders (a source and a backup that drifted); two `synker agent` processes
 * with their own identities, trusting each other, advertising over mDNS on
 * the loopback interface only (nothing is announced on the LAN); the backup
 * finds the source over mDNS (or, where multicast does not work, uses its
 * loopback address and says so); `synker check --email` prints the report
 * and mails it to the demo's own SMTP server, whose message is saved as
 * report.eml and report.html; `synker sync`; and a final check showing the
 * backup complete. Each command is printed as a user would type it. Nothing
 * is left running afterwards, also on Ctrl-C or a failure.
 *
 * Longer than 300 lines: the demo is one story told in order (each step's
 * narration next to the step); its parts (sample, setup, mailbox, processes)
 * live in modules of their own.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import { PeerFinder, startDiscovery, type Candidate, type Discovery } from '../discovery/index.js';
import { errnoCode, rethrowIfBug, SynkerError } from '../base/errors.js';
import { formatBytes, formatDuration, plural } from '../base/units.js';
import { DemoError } from './errors.js';
import { prepareDemoDir } from './folder.js';
import { DemoMailbox } from './mailbox.js';
import { readReportMessage } from './mime.js';
import { ProcessGroup, type Finished, type SynkerProcess } from './processes.js';
import { createSample, DEMO_FOLDER_ID, sampleDifferences } from './sample.js';
import { REPORT_TO, setUpSides } from './setup.js';
import { pathNote, quoteArg as quote, synkerCommand } from './command.js';
import { synkerDirs } from '../dirs/dirs.js';
import { readToken, tokenFile } from '../web/token.js';

export interface DemoOptions {
  /** The demo folder (cleared first if a previous demo made it). */
  dir: string;
  /** Where the demo's narration goes. */
  write: (text: string) => void;
  /** Ctrl-C: stops every step and everything started, then throws the signal's reason. */
  signal?: AbortSignal;
  /** Environment for the child processes (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** After the last step, keep the agents (and the backup's status page) running until `signal` aborts (Ctrl-C). */
  keepOpen?: boolean;
}

export interface DemoPhase {
  name: string;
  ms: number;
}

export interface DemoResult {
  dir: string;
  eml: string;
  html: string;
  /** How the backup found the source. */
  foundVia: 'mdns' | 'loopback';
  phases: DemoPhase[];
  elapsedMs: number;
}

const AGENT_READY_MS = 60_000;
/** A source advertising on loopback answers within a second; past this, multicast does not work here. */
const DISCOVERY_WAIT_MS = 5_000;
const STEP_TIMEOUT_MS = 180_000;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const signal = options.signal ?? new AbortController().signal;
  const say = (text = ''): void => options.write(`${text}\n`);
  const phases: DemoPhase[] = [];
  let mark = started;
  const phase = (name: string): void => {
    const now = performance.now();
    phases.push({ name, ms: now - mark });
    mark = now;
  };

  const dir = path.resolve(options.dir);
  const synker = synkerCommand(options.env === undefined ? {} : { env: options.env });
  const loopback = loopbackInterface();
  await prepareDemoDir(dir);
  say(`synker demo: a real backup check on this machine. Everything goes into ${dir}`);
  say();

  const source = path.join(dir, 'source');
  const backup = path.join(dir, 'backup');
  const stats = await writing('the sample folders', () => createSample(source, backup));
  signal.throwIfAborted();
  const diff = sampleDifferences();
  say('1. Sample folders');
  say(`   source/  the originals: ${plural(stats.sourceFiles, 'file')}, ${formatBytes(stats.sourceBytes)} of photos and documents`);
  say(`   backup/  a copy that drifted: ${diff.missing.length} photos never copied, "${diff.edited[0]}" edited on the source since,`);
  say(
    `            "${diff.renamedFolder.from}" renamed to "${diff.renamedFolder.to}" on the source, "${diff.extra[0]}" only on the backup`,
  );
  phase('sample');

  const mailbox = new DemoMailbox();
  const group = new ProcessGroup();
  let discovery: Discovery | undefined;
  try {
    const smtpPort = await mailbox.start();
    const sides = await writing("the demo agents' settings", () => setUpSides(dir, source, backup, smtpPort));
    signal.throwIfAborted();
    say();
    say('2. Two agents, each with its own identity and SYNKER_HOME, trusting each other');
    // The backup's status page on a free port (the demo must not take a real agent's 7781); the source serves none.
    const agentArgs = (role: string): string[] => [
      ...['agent', '--listen', '127.0.0.1', '--port', '0', '--interface', loopback, '--no-schedule'],
      ...(role === 'backup' ? ['--web-port', '0'] : ['--no-web']),
    ];
    const agents = [sides.source, sides.backup].map((side) =>
      group.start(`${side.role} agent`, agentArgs(side.role), childEnv(options.env, side.home)),
    );
    const ports = await Promise.all(agents.map((agent) => agentPort(agent, signal)));
    const sourcePort = ports[0]!;
    for (const [i, side] of [sides.source, sides.backup].entries()) {
      say(`   ${side.role.padEnd(6)} ${side.name}  ${formatDeviceId(side.identity.deviceId)}  127.0.0.1:${ports[i]}`);
      say(`          $ SYNKER_HOME=${quote(shown(side.home))} ${synker} ${agentArgs(side.role).map(quote).join(' ')}`);
    }
    say(`   mDNS only on the loopback interface (${loopback}): nothing is announced on your network.`);
    const page = await statusPage(agents[1]!, sides.backup.home);
    say(`   The backup's status page (open it now: it updates as each step below ends):`);
    say(`          ${page}`);
    say(`          $ SYNKER_HOME=${quote(shown(sides.backup.home))} ${synker} ui`);
    phase('agents');

    say();
    say(`3. The backup looks for the source over mDNS on ${loopback}`);
    const t0 = performance.now();
    let heard: Candidate | undefined;
    let why = `mDNS did not find the source within ${DISCOVERY_WAIT_MS / 1000} s`;
    try {
      discovery = await startDiscovery({ browse: true, interfaces: [loopback] });
      const found = await new PeerFinder([discovery.candidates]).waitForCandidates(
        sides.source.identity.deviceId,
        DISCOVERY_WAIT_MS,
        signal,
      );
      heard = found.find((c) => c.port === sourcePort);
    } catch (err) {
      rethrowIfBug(err);
      why = `mDNS could not start (${(err as Error).message})`;
    } finally {
      await discovery?.stop();
      discovery = undefined;
    }
    signal.throwIfAborted();
    const foundVia: DemoResult['foundVia'] = heard ? 'mdns' : 'loopback';
    const reach = heard ? ['--interface', loopback] : ['--peer', `127.0.0.1:${sourcePort}`, '--no-discovery'];
    if (heard) {
      say(
        `   found ${sides.source.name} (${shortDeviceId(sides.source.identity.deviceId)}) at ${heard.host}:${heard.port} in ${seconds(performance.now() - t0)}`,
      );
    } else {
      say(`   note: multicast does not work on ${loopback} here, so ${why};`);
      say(
        `         the demo gives its loopback address instead (--peer 127.0.0.1:${sourcePort}), as you would on a network without multicast.`,
      );
    }
    phase('discovery');

    const backupEnv = childEnv(options.env, sides.backup.home);
    const first = await step(group, say, signal, synker, 4, ['check', DEMO_FOLDER_ID, ...reach, '--email'], backupEnv);
    if (first.code !== 1) throw stepFailed('the first check should find the sample differences (exit 1)', first);
    phase('check + e-mail');

    say();
    say('5. The report e-mail, as the demo mail server received it');
    const mail = mailbox.received[0];
    if (mail === undefined) throw stepFailed(`the check did not deliver its report to the demo mail server (127.0.0.1:${smtpPort})`, first);
    const message = readReportMessage(mail.raw);
    const eml = path.join(dir, 'report.eml');
    const html = path.join(dir, 'report.html');
    await writing('the report files', async () => {
      await writeFile(eml, mail.raw);
      await writeFile(html, message.html);
    });
    say(`   To: ${mail.to.join(', ')}   (the demo's own SMTP server on 127.0.0.1:${smtpPort}: nothing leaves this machine)`);
    say(`   Subject: ${message.subject}`);
    say(`   saved ${shown(eml)}`);
    say(`     and ${shown(html)}  (open it in a browser)`);
    phase('save report');

    const sync = await step(group, say, signal, synker, 6, ['sync', DEMO_FOLDER_ID, ...reach, '--delete'], backupEnv);
    if (sync.code !== 0) throw stepFailed('the sync should bring the backup in line (exit 0)', sync);
    phase('sync');

    const last = await step(group, say, signal, synker, 7, ['check', DEMO_FOLDER_ID, ...reach], backupEnv);
    if (last.code !== 0) throw stepFailed('after the sync the check should find the backup complete (exit 0)', last);
    phase('check again');

    if (options.keepOpen === true) {
      say();
      say(`The backup's status page stays open at ${page}`);
      say('Press Ctrl-C to stop the agents and the mail server.');
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      say();
      phase('kept open');
    }

    await group.close();
    await mailbox.stop();
    phase('stop');
    const elapsedMs = performance.now() - started;
    say();
    say(`Done in ${seconds(elapsedMs)} (${phases.map((p) => `${p.name} ${seconds(p.ms)}`).join(', ')}).`);
    say('Both agents and the mail server are stopped; nothing is left running.');
    say();
    options.write(pathNote(synker));
    say(twoLaptops(REPORT_TO));
    return { dir, eml, html, foundVia, phases, elapsedMs };
  } finally {
    await discovery?.stop();
    await group.close();
    await mailbox.stop();
  }
}

/** File-system work in the demo folder; what fails there (disk full, permissions) is a DemoError with a hint. */
async function writing<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    rethrowIfBug(err);
    if (err instanceof SynkerError) throw err;
    throw new DemoError('E_DEMO_DIR', `cannot write ${what}: ${errnoCode(err) ?? (err as Error).message}`, {
      cause: err,
      hint: 'Check the free space and permissions of the demo folder, or choose another with --dir.',
    });
  }
}

/** The machine's loopback interface (lo on Linux, lo0 on macOS). */
function loopbackInterface(): string {
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    if (infos?.some((i) => i.internal && i.family === 'IPv4')) return name;
  }
  throw new DemoError('E_DEMO_LOOPBACK', 'this machine has no loopback interface with an IPv4 address (127.0.0.1)', {
    hint: 'The demo runs everything over loopback: bring it up (ip link set lo up) and try again.',
  });
}

async function agentPort(agent: SynkerProcess, signal: AbortSignal): Promise<number> {
  try {
    return Number((await agent.waitForLog(/synker agent ".*" \(.*\) on port (\d+)/, AGENT_READY_MS, signal))[1]);
  } catch (err) {
    signal.throwIfAborted();
    throw new DemoError('E_DEMO_AGENT', `${(err as Error).message}; its log:\n${agent.log().trim()}`, {
      cause: err,
      hint: 'Run synker doctor to see what is in the way (an unwritable folder, no loopback interface).',
    });
  }
}

/** The backup agent's status page, with its token: what `synker ui` prints. */
async function statusPage(agent: SynkerProcess, home: string): Promise<string> {
  const url = /status page: (http:\/\/\S+\/)/.exec(agent.log())?.[1];
  const token = await readToken(tokenFile(synkerDirs({ SYNKER_HOME: home }).data));
  if (url === undefined || token === undefined)
    throw new DemoError('E_DEMO_AGENT', `the backup agent serves no status page; its log:\n${agent.log().trim()}`, {
      hint: 'Run synker doctor to see what is in the way.',
    });
  return `${url}#token=${token}`;
}

/** Runs one CLI step on the backup, printing the command and its output. */
async function step(
  group: ProcessGroup,
  say: (text?: string) => void,
  signal: AbortSignal,
  synker: string,
  n: number,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Finished> {
  say();
  say(`${n}. On the backup: $ ${synker} ${args.map(quote).join(' ')}`);
  const result = await group.run(`synker ${args[0]}`, args, env, STEP_TIMEOUT_MS, signal);
  say(indent(result.stdout).trimEnd());
  return result;
}

function stepFailed(expected: string, result: Finished): DemoError {
  const stderr = result.stderr.trim();
  return new DemoError(
    'E_DEMO_STEP',
    `${expected}, but it ended with ${result.code === null ? `signal ${result.signal}` : `exit code ${result.code}`}${stderr ? `:\n${stderr}` : ''}`,
    {
      hint: 'The messages above say what went wrong; synker doctor checks the set-up. The demo folder is kept for a look.',
    },
  );
}

function childEnv(base: NodeJS.ProcessEnv | undefined, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(base ?? process.env), SYNKER_HOME: home };
  // The demo reads the agents' readiness from their info log line.
  delete env.SYNKER_LOG;
  return env;
}

/** A path as short as it can be shown: relative to the current folder when inside it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function seconds(ms: number): string {
  return formatDuration(ms);
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '   ');
}

function twoLaptops(to: string): string {
  return [
    'To do the same on two laptops (Node.js 20 or later on both; README.md has the details):',
    '  both:                git clone <this repository> synker && cd synker && npm ci && npm link',
    '  laptop (originals):  synker init --role source --folder pictures=~/Pictures      # prints its device ID',
    `  backup machine:      synker init --role backup --folder pictures=/media/backup/pictures --email-to ${to}`,
    '  laptop:              synker trust <backup ID> --name backup && synker folder share pictures backup',
    '  backup machine:      synker trust <laptop ID> --name laptop && synker folder share pictures laptop',
    '  both:                synker service install                                       # the agent starts at login',
    '  backup machine:      synker check pictures                                        # then synker sync pictures fixes what differs',
    '                       (synker doctor if the two machines do not find each other)',
  ].join('\n');
}
