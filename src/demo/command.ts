/**
 * How the demo writes synker in the commands it shows, decided once: `synker`
 * when the `synker` found on the PATH is this very launcher (after `npm link`
 * or an install); otherwise `node <its launcher>`, which works where
 * `synker` would not: `npm start` builds and runs the demo without putting
 * synker on the PATH, and a `synker` that is some other install would run
 * other code.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { realPathSync } from '../base/real-path.js';
import { synkerLauncherPath } from '../service/spec.js';

export interface SynkerCommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: this synker's bin/synker.js. */
  launcher?: string;
  /** Default: the current folder (the launcher is shown relative to it when inside it). */
  cwd?: string;
  platform?: NodeJS.Platform;
}

export function synkerCommand(options: SynkerCommandOptions = {}): string {
  const env = options.env ?? process.env;
  const launcher = options.launcher ?? synkerLauncherPath();
  const platform = options.platform ?? process.platform;
  const onPath = firstOnPath('synker', env, platform);
  if (onPath !== undefined && sameFile(onPath, launcher)) return 'synker';
  const cwd = options.cwd ?? process.cwd();
  const rel = path.relative(cwd, launcher);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : launcher;
  return `node ${quoteArg(shown)}`;
}

/** The file the shell would run for `name`: the first match along PATH (with PATHEXT's extensions on Windows). */
function firstOnPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const pathVar = env.PATH ?? env.Path ?? '';
  const delimiter = platform === 'win32' ? ';' : ':';
  const extensions = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue;
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realPathSync(a) === realPathSync(b);
  } catch {
    return false;
  }
}

/** When synker is not on the PATH: a paragraph saying how the commands shown run it, and how to put it there. */
export function pathNote(synker: string): string {
  return synker === 'synker'
    ? ''
    : `The commands above run synker as \`${synker}\`: \`synker\` is not on your PATH (\`npm link\` puts it there).\n\n`;
}

/** A shell word: as it is when plain, else in single quotes. */
export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
