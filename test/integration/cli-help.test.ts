import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { commandWord, loadAllCommands, loadCommandsFor, loadCommandsForArgs } from '../../src/cli/commands/index.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

test('every command shows at least one example in its --help', async () => {
  const program = new Command('synker');
  for (const register of await loadAllCommands()) register(program);
  const missing = allCommands(program)
    .slice(1)
    .filter((cmd) => !/\nExamples:\n\s+\$ synker /.test(helpOf(cmd)))
    .map((cmd) => (cmd.parent && cmd.parent !== program ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name()));
  assert.deepEqual(missing, [], `add examples with addExamples() from src/cli/help.ts to: ${missing.join(', ')}`);
});

test("every address in a command's examples uses synker's default port, not another program's", async () => {
  const { DEFAULT_PORT } = await import('../../src/config/defaults.js');
  const program = new Command('synker');
  for (const register of await loadAllCommands()) register(program);
  const ports = allCommands(program)
    .slice(1)
    .flatMap((cmd) => [...helpOf(cmd).matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}:(\d+)/g)].map((m) => `${cmd.name()} ${m[0]}`));
  assert.ok(
    ports.some((p) => p.startsWith('peers ')),
    ports.join(', '),
  );
  assert.deepEqual(
    ports.filter((p) => !p.endsWith(`:${DEFAULT_PORT}`)),
    [],
  );
});

test('an unknown option is a usage error with exit code 2 and no stack trace', async () => {
  const result = await runSynker(['service', 'print', '--no-such-flag']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown option '--no-such-flag'/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('only the command being run is loaded; help and typos see every command', async () => {
  assert.equal(commandWord(['--debug', 'check', 'photos']), 'check');
  assert.equal(commandWord(['--config', 'check', 'sync', '--peer', 'x']), 'sync');
  assert.equal(commandWord(['--debug', '--help']), undefined);
  assert.equal(commandWord(['--', 'scan']), 'scan');
  const names = async (word: string | undefined): Promise<string[]> => {
    const program = new Command('synker');
    for (const register of await loadCommandsFor(word)) register(program);
    return program.commands.map((c) => c.name());
  };
  assert.deepEqual(await names('untrust'), ['trust', 'untrust', 'trusted']);
  assert.deepEqual(await names('check'), ['check']);
  const all = await names(undefined);
  assert.ok(all.length > 15 && all.includes('demo') && all.includes('check'), all.join(' '));
  assert.deepEqual(await names('chekc'), all);
  assert.deepEqual(await loadCommandsForArgs(['--version']), []);
  assert.equal((await loadCommandsForArgs(['check', '--version'])).length, 1);
});

test('output into a pipe whose reader stopped (synker ... | head) ends quietly, without a stack trace', async (t) => {
  const { spawn } = await import('node:child_process');
  const { once } = await import('node:events').then((m) => m.default);
  const dir = await tempDir(t);
  for (const args of [['--help'], ['versions', 'prune', '--help'], ['id']]) {
    const child = spawn(process.execPath, [SYNKER_BIN, ...args], { env: isolatedEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The reader is gone before synker writes a byte (it takes a while to start).
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.doesNotMatch(stderr, /EPIPE|Unhandled|at .*\(node:/, `${args.join(' ')}: ${stderr}`);
    assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
  }
});
