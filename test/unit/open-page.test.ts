/**
 * The command that opens the status page in the browser, per platform. Run
 * for real: the argument as a program gets it (here); on Windows by the
 * Windows lane (test/system/windows-lane.test.ts), where Wine's cmd runs the
 * very line made here. macOS' `open` takes the address as one argument.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { browserCommand, URL_VARIABLE } from '../../src/cli/open-page.js';

const TRICKY = 'http://127.0.0.1:7781/?token=ab&x=^y&z=%PATH%&q=%41';

test('macOS and Linux: the address is one argument of open or xdg-open, never a shell line', () => {
  assert.deepEqual(browserCommand(TRICKY, 'darwin'), { command: 'open', args: [TRICKY], windowsVerbatimArguments: false, env: {} });
  assert.deepEqual(browserCommand(TRICKY, 'linux'), { command: 'xdg-open', args: [TRICKY], windowsVerbatimArguments: false, env: {} });
  // The argument reaches the program whole: & ^ % are nothing to it.
  const echoed = spawnSync(process.execPath, ['-e', 'process.stdout.write(process.argv[1])', ...browserCommand(TRICKY, 'linux').args]);
  assert.equal(echoed.stdout.toString(), TRICKY);
});

test("Windows: cmd's start gets an empty title and the address quoted, from a variable, the line passed verbatim", () => {
  const c = browserCommand(TRICKY, 'win32');
  assert.equal(c.command, 'cmd.exe');
  assert.deepEqual(c.args, ['/d', '/s', '/c', `"start "" "%${URL_VARIABLE}%""`]);
  assert.equal(c.windowsVerbatimArguments, true, 'Node\'s quoting would turn the title into \\"\\"');
  assert.deepEqual(c.env, { [URL_VARIABLE]: TRICKY }, 'the address is not on the command line, where cmd would read & ^ %');
});

test('a quote or a space never reaches a command line: the address is normalised first', () => {
  const c = browserCommand('http://127.0.0.1:7781/?a="b c"', 'win32');
  assert.equal(c.env[URL_VARIABLE], 'http://127.0.0.1:7781/?a=%22b%20c%22');
  assert.throws(() => browserCommand('not an address', 'win32'), TypeError);
});
