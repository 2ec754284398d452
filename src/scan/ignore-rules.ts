/**
 * Which paths a scan leaves out: default OS junk, then the folder's own
 * `.synkerignore` (gitignore syntax, matched by the `ignore` package), then
 * rules handed in by the caller (the source side's rules, which govern both
 * sides). Later rules win, so `!Thumbs.db` re-includes a default.
 * Matching is case-sensitive, like git on Linux.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { errnoCode } from '../base/errors.js';
import { IGNORE_FILE } from '../manifest/layout.js';

/** Files that operating systems and desktop shells leave behind. */
export const DEFAULT_IGNORE_RULES = ['.DS_Store', 'Thumbs.db', 'desktop.ini', '._*', '$RECYCLE.BIN/', 'System Volume Information/'].join(
  '\n',
);

/**
 * The text of the folder's `.synkerignore`, or '' when it has none. This is
 * what a source sends its peers so that its rules govern both sides.
 */
export async function readIgnoreRules(root: string): Promise<string> {
  try {
    return await readFile(path.join(root, IGNORE_FILE), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return '';
    throw err;
  }
}

// The `ignore` package remembers every path it has answered for; a fresh
// matcher every so often keeps memory bounded on trees of millions of files.
const LOOKUPS_PER_MATCHER = 4096;

/**
 * Answers for paths whose parent folders the walk already found not ignored
 * (it never descends into an ignored folder), so only the path itself is
 * tested, never its parents.
 */
export class IgnoreMatcher {
  private readonly rules: string[];
  private readonly byName: NameRule[] | undefined;
  private matcher: Ignore | undefined;
  private lookups = 0;

  constructor(rules: string[]) {
    this.rules = rules;
    this.byName = nameRules(rules.join('\n'));
  }

  /** `key` is a path relative to the root (NFC, `/`-separated). */
  ignores(key: string, isDir: boolean): boolean {
    if (this.byName !== undefined) return ignoredByName(this.byName, key.slice(key.lastIndexOf('/') + 1), isDir);
    if (this.matcher === undefined || ++this.lookups > LOOKUPS_PER_MATCHER) {
      this.matcher = ignore({ ignorecase: false }).add(this.rules.join('\n'));
      this.lookups = 0;
    }
    return this.matcher.ignores(isDir ? `${key}/` : key);
  }
}

/**
 * The common case, every rule a plain name pattern (`.DS_Store`, `*.tmp`,
 * `cache/`, `!keep.tmp`): gitignore matches those against the last path
 * component at any depth, the last matching rule deciding. Tested per name
 * with one regular expression each, that is some ten times faster than the
 * general matcher, which splits every path and tests its parents too.
 */
interface NameRule {
  regex: RegExp;
  negated: boolean;
  dirOnly: boolean;
}

function ignoredByName(rules: readonly NameRule[], name: string, isDir: boolean): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if ((isDir || !rule.dirOnly) && rule.regex.test(name)) return !rule.negated;
  }
  return false;
}

/** The rules as name patterns, or undefined when any rule needs the general matcher (a `/`, `**`, `[...]`, an escape). */
export function nameRules(text: string): NameRule[] | undefined {
  const rules: NameRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    // Trailing spaces are not part of a pattern (unless escaped, which the general matcher handles).
    const line = raw.replace(/ +$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    let pattern = negated ? line.slice(1) : line;
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.slice(0, -1);
    if (pattern === '' || /[/\\[\]]|\*\*/.test(pattern)) return undefined;
    const body = pattern
      .replace(/[.+^${}()|]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]');
    rules.push({ regex: new RegExp(`^${body}$`), negated, dirOnly });
  }
  return rules;
}

/** Defaults, then the folder's rules, then the caller's. */
export function buildIgnoreMatcher(folderRules: string, extraRules = ''): IgnoreMatcher {
  return new IgnoreMatcher([DEFAULT_IGNORE_RULES, folderRules, extraRules].filter((r) => r !== ''));
}
