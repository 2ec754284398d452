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
import { errnoCode } from '../errors.js';
import { IGNORE_FILE } from '../manifest/layout.js';

/** Files that operating systems and desktop shells leave behind. */
export const DEFAULT_IGNORE_RULES = [
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
  '._*',
  '$RECYCLE.BIN/',
  'System Volume Information/',
].join('\n');

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
 * A rule without a slash inside (`*.tmp`, `.DS_Store`, `cache/`) matches a
 * name at any depth, whatever the folders above it.
 */
function matchesNameOnly(rule: string): boolean {
  const line = rule.trim();
  if (line === '' || line.startsWith('#')) return true;
  const body = (line.startsWith('!') ? line.slice(1) : line).replace(/\/+$/, '');
  return !body.includes('/');
}

export class IgnoreMatcher {
  private readonly rules: string[];
  private matcher: Ignore;
  private lookups = 0;
  /**
   * Every rule matches names only: then a path is ignored exactly when its
   * last name is, because the walker never enters an ignored folder (and git
   * never re-includes anything inside one). Matching the name alone spares
   * the parent-by-parent walk the matcher does for a full path.
   */
  private readonly namesOnly: boolean;

  constructor(rules: string[]) {
    this.rules = rules;
    this.matcher = this.build();
    this.namesOnly = rules.every((text) => text.split(/\r?\n/).every(matchesNameOnly));
  }

  /** `key` is a path relative to the root (NFC, `/`-separated) whose parent folders are not ignored. */
  ignores(key: string, isDir: boolean): boolean {
    if (++this.lookups > LOOKUPS_PER_MATCHER) {
      this.matcher = this.build();
      this.lookups = 0;
    }
    const subject = this.namesOnly ? key.slice(key.lastIndexOf('/') + 1) : key;
    return this.matcher.ignores(isDir ? subject + '/' : subject);
  }

  private build(): Ignore {
    return ignore({ ignorecase: false }).add(this.rules.join('\n'));
  }
}

/** Defaults, then the folder's rules, then the caller's. */
export function buildIgnoreMatcher(folderRules: string, extraRules = ''): IgnoreMatcher {
  return new IgnoreMatcher([DEFAULT_IGNORE_RULES, folderRules, extraRules].filter((r) => r !== ''));
}
