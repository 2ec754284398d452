/** A folder path in config.json as a Windows user types it: single backslashes turn into tabs and newlines in JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFolderPathProblem } from '../../src/config/folder-rules.js';

test('a control character in a folder path names the JSON escape and how to write the path', () => {
  // "C:\temp\new" in the file: C:, a tab, emp, a newline, ew.
  const typed = JSON.parse('"C:\\temp\\new"') as string;
  for (const platform of ['win32', 'linux'] as const) {
    const problem = configFolderPathProblem(typed, platform);
    assert.ok(problem, platform);
    assert.match(problem.message, /^holds a tab and a newline \(found "C:\\temp\\new"\): in JSON a backslash starts an escape/);
    assert.equal(problem.hint, 'Double each backslash in the config file ("C:\\\\temp\\\\new") or write / instead ("C:/temp/new").');
    assert.doesNotMatch(problem.message + problem.hint, /[\t\n]/, 'no raw control character in the words');
  }
  // On Windows a name never holds a control character, so an absolute path with one is refused too.
  const half = JSON.parse('"C:\\\\Users\\\\ann\\new"') as string;
  assert.match(configFolderPathProblem(half, 'win32')!.message, /^holds a newline/);
  assert.equal(
    configFolderPathProblem(half, 'win32')!.hint,
    'Double each backslash in the config file ("C:\\\\Users\\\\ann\\\\new") or write / instead ("C:/Users/ann/new").',
  );
  // Elsewhere a name may hold one (synker writes such a path back escaped): an absolute path stays accepted.
  assert.equal(configFolderPathProblem('/data/odd\tname', 'linux'), undefined);
  assert.match(configFolderPathProblem('\u0001x', 'linux')!.message, /^holds control character U\+0001/);
});

test('a relative path is refused as before; absolute paths pass on their own platform', () => {
  assert.equal(configFolderPathProblem('photos', 'linux')!.message, 'must be an absolute path (or start with ~/), found "photos"');
  assert.equal(configFolderPathProblem('photos', 'linux')!.hint, undefined);
  assert.equal(configFolderPathProblem('C:\\Users\\ann\\Pictures', 'win32'), undefined);
  assert.equal(configFolderPathProblem('C:/Users/ann/Pictures', 'win32'), undefined);
  assert.equal(configFolderPathProblem('~\\Pictures', 'win32'), undefined);
  assert.equal(configFolderPathProblem('/home/ann/Pictures', 'linux'), undefined);
  assert.equal(configFolderPathProblem('~/Pictures', 'darwin'), undefined);
  assert.ok(configFolderPathProblem('C:\\Users\\ann', 'linux'));
});
