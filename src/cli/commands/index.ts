/**
 * Every `synker` command registers itself here: one module per command (or
 * command group) under src/cli/commands/, each exporting `register(program)`.
 * Modules are imported only when needed: a run of `synker check` loads the
 * check command and what it uses, not the demo's mail server or the service
 * installer, which keeps start-up short for scripts and the agent's
 * scheduled checks.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

interface CommandModule {
  /** The top-level command names the module registers. */
  names: readonly string[];
  load: () => Promise<{ register: RegisterCommand }>;
}

/** In the order `synker --help` lists them. */
const modules: readonly CommandModule[] = [
  { names: ['agent'], load: () => import('./agent.js') },
  { names: ['init'], load: () => import('./init.js') },
  { names: ['doctor'], load: () => import('./doctor.js') },
  { names: ['service'], load: () => import('./service.js') },
  { names: ['scan'], load: () => import('./scan.js') },
  { names: ['peers'], load: () => import('./peers.js') },
  { names: ['id'], load: () => import('./id.js') },
  { names: ['trust', 'untrust', 'trusted'], load: () => import('./trust.js') },
  { names: ['folder'], load: () => import('./folder.js') },
  { names: ['status'], load: () => import('./status.js') },
  { names: ['ui'], load: () => import('./ui.js') },
  { names: ['outbox'], load: () => import('./outbox.js') },
  { names: ['test-email'], load: () => import('./test-email.js') },
  { names: ['versions'], load: () => import('./versions.js') },
  { names: ['check'], load: () => import('./check.js') },
  { names: ['sync'], load: () => import('./sync.js') },
  { names: ['restore'], load: () => import('./restore.js') },
  { names: ['demo'], load: () => import('./demo.js') },
];

/** Every command's register function: for the full help and for tests that walk all commands. */
export async function loadAllCommands(): Promise<RegisterCommand[]> {
  return Promise.all(modules.map(async (m) => (await m.load()).register));
}

/**
 * The commands needed to run `name`: just its module when it names one;
 * otherwise (no command, `help`, a typo) all of them, so help and "did you
 * mean" suggestions see every command.
 */
export async function loadCommandsFor(name: string | undefined): Promise<RegisterCommand[]> {
  const module = name === undefined ? undefined : modules.find((m) => m.names.includes(name));
  return module === undefined ? loadAllCommands() : [(await module.load()).register];
}

/** Global options that take a value: the word after them is not the command. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--config']);

/** The command word of the arguments after `synker` (`--debug check x` → `check`), if any. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-')) return arg;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/**
 * The commands to register for the arguments after `synker`: none for a bare
 * `--version`, otherwise those `loadCommandsFor` picks for the command word.
 */
export async function loadCommandsForArgs(args: readonly string[]): Promise<RegisterCommand[]> {
  const word = commandWord(args);
  if (word === undefined && args.some((a) => a === '-V' || a === '--version')) return [];
  return loadCommandsFor(word);
}
