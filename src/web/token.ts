/**
 * The status page's token: 32 random bytes (64 hex characters) in
 * `web-token` in the data directory, made once, owner-only, so a bookmark
 * made with it keeps working across restarts; deleting the file makes a new
 * one at the next start. Another local user cannot read it, so cannot read
 * the page (which names files). Compared in constant time.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { constants } from 'node:fs';
import path from 'node:path';
import { errnoCode, SynkerError } from '../base/errors.js';
import { openHandleNoFollow } from '../base/no-follow.js';
import { makeDirs } from '../base/make-dirs.js';
import { fsyncDir } from '../base/atomic-file.js';

export const TOKEN_FILE = 'web-token';
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function tokenFile(dataDir: string): string {
  return path.join(dataDir, TOKEN_FILE);
}

/** The token of this data directory, made (0600) when there is none yet. */
export async function webToken(dataDir: string): Promise<string> {
  const file = tokenFile(dataDir);
  const existing = await readToken(file);
  if (existing !== undefined) return existing;
  await makeDirs(dataDir, 0o700);
  const token = randomBytes(32).toString('hex');
  try {
    // Exclusive: of two processes making it at once, one writes it and both use that one.
    const handle = await openHandleNoFollow(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(`${token}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(dataDir);
    return token;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  const made = await readToken(file);
  if (made === undefined) throw badToken(file);
  return made;
}

/** The token in `file`; undefined when there is no file. */
export async function readToken(file: string): Promise<string | undefined> {
  let text: string;
  try {
    const handle = await openHandleNoFollow(file, constants.O_RDONLY);
    try {
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const token = text.trim();
  if (!TOKEN_PATTERN.test(token)) throw badToken(file);
  return token;
}

function badToken(file: string): SynkerError {
  return new SynkerError('E_WEB_TOKEN', `${file} does not hold a status page token (64 hex characters)`, {
    hint: `Delete ${file} and restart the agent: it makes a new token (pages opened with the old one ask for the new address: synker ui).`,
  });
}

/** Whether `given` is the token, in time that does not depend on where they differ. */
export function isToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  // Digests of equal length: timingSafeEqual needs that, and the length of `given` tells nothing.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
