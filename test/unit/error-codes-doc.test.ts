/**
 * docs/errors.md promises every stable error code synker reports. The codes
 * are read from the source text itself, so a new code without a row fails
 * here, and so does a row whose code the source no longer has.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function read(relPath: string): string {
  return readFileSync(path.join(ROOT, relPath), 'utf8');
}

function sourceFiles(): Array<{ file: string; text: string }> {
  return readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => ({ file: path.posix.join('src', f.split(path.sep).join('/')), text: read(path.join('src', f)) }));
}

/** A quoted code: 'E_X', "E_X" or `E_X`. A prefix such as 'E_SCAN_' (for startsWith) ends in "_" and is no code. */
const LITERAL = /['"`](E_[A-Z0-9_]*[A-Z0-9])['"`]/g;
/** A code built in a template literal: `E_SMTP_${failure.toUpperCase()}`. */
const TEMPLATE = /`(E_[A-Z0-9_]*_)\$\{/g;

/**
 * The families built from templates, and where their members are listed:
 * a string-literal union whose members become the code's tail
 * (upper case, "-" as "_", as the code does).
 */
const FAMILIES: Record<string, { file: string; union: RegExp }> = {
  E_SMTP_: { file: 'src/mail/mailer.ts', union: /type MailFailure =([^;]+);/ },
  E_SYNC_GUARD_: { file: 'src/sync/plan-types.ts', union: /type GuardName =([^;]+);/ },
  E_SYNC_SOURCE_: { file: 'src/transfer/errors.ts', union: /readonly reason:([^,]+),/ },
  // The source serves a SourceFileError's reason as E_FILE_<REASON> (src/peer/file-serving.ts).
  E_FILE_: { file: 'src/transfer/errors.ts', union: /readonly reason:([^,]+),/ },
};

function familyMembers(prefix: string): string[] {
  const family = FAMILIES[prefix];
  assert.ok(family, `${prefix}\${...} is built from a template: add it to FAMILIES in this test, and its codes to docs/errors.md`);
  const union = family.union.exec(read(family.file));
  assert.ok(union, `${family.file}: the list of ${prefix}* members (${family.union}) is gone; update FAMILIES in this test`);
  const members = [...union[1]!.matchAll(/'([^']+)'/g)].map((m) => `${prefix}${m[1]!.toUpperCase().replace('-', '_')}`);
  assert.ok(members.length > 0, `${family.file}: no ${prefix}* members found`);
  for (const code of members) assert.match(code, /^E_[A-Z0-9_]+$/, `${code} (from ${family.file}) is not a well-formed code`);
  return members;
}

/** Every code the source can report, with the first file that has it. */
function sourceCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  const prefixes = new Set<string>();
  for (const { file, text } of sourceFiles()) {
    for (const m of text.matchAll(LITERAL)) if (!codes.has(m[1]!)) codes.set(m[1]!, file);
    for (const m of text.matchAll(TEMPLATE)) prefixes.add(m[1]!);
  }
  // The extraction must keep finding the families, or their members would silently go unchecked.
  assert.deepEqual(
    [...prefixes].sort(),
    Object.keys(FAMILIES).sort(),
    'the template-built code families changed: update FAMILIES in this test',
  );
  for (const prefix of prefixes) for (const code of familyMembers(prefix)) if (!codes.has(code)) codes.set(code, FAMILIES[prefix]!.file);
  return codes;
}

/** The codes docs/errors.md has a row for: `| \`E_X\` | ...`. */
function documentedCodes(doc: string): string[] {
  return [...doc.matchAll(/^\|\s*`(E_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
}

test('the source extraction finds literal and template-built codes', () => {
  const codes = sourceCodes();
  // A sample of each kind: a thrown literal, a code sent in an object, an expanded family member.
  for (const code of [
    'E_USAGE',
    'E_CONFIG_SYNTAX',
    'E_FOLDER_NOT_FOUND',
    'E_SMTP_AUTH',
    'E_SYNC_GUARD_MAX_DELETE',
    'E_SYNC_SOURCE_NOT_FOUND',
    'E_FILE_CHANGED',
  ]) {
    assert.ok(codes.has(code), code);
  }
  assert.ok(!codes.has('E_SCAN_'), 'a prefix is not a code');
  assert.ok(codes.size > 100, `only ${codes.size} codes found`);
});

test('docs/errors.md has one row for every error code in src/', () => {
  const documented = documentedCodes(read('docs/errors.md'));
  const missing = [...sourceCodes()].filter(([code]) => !documented.includes(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
});

test('docs/errors.md has no row for a code the source no longer has, and none twice', () => {
  const codes = sourceCodes();
  const documented = documentedCodes(read('docs/errors.md'));
  const stale = documented.filter((code) => !codes.has(code));
  assert.deepEqual(stale, [], `docs/errors.md documents codes that no longer appear in src/: ${stale.join(', ')}`);
  const twice = documented.filter((code, i) => documented.indexOf(code) !== i);
  assert.deepEqual(twice, [], `docs/errors.md documents codes twice: ${twice.join(', ')}`);
});
