/**
 * Loads Node's built-in `node:sqlite` where this Node.js has it, without the
 * ExperimentalWarning Node 22 prints on the first load (Node 24 prints none).
 * Only that one warning, only during that load, is held back: every other
 * warning goes out as before. @types/node 20 has no types for the module, so
 * the part synker uses is typed here.
 */
import { createRequire } from 'node:module';

export type SqliteValue = null | number | bigint | string | Uint8Array;

export interface SqliteStatement {
  run(...params: SqliteValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqliteValue[]): Record<string, SqliteValue> | undefined;
  all(...params: SqliteValue[]): Array<Record<string, SqliteValue>>;
}

export interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
  readonly isOpen?: boolean;
}

export interface SqliteModule {
  DatabaseSync: new (path: string, options?: { open?: boolean; readOnly?: boolean }) => SqliteDatabase;
}

/** An error thrown by node:sqlite: `errcode` is SQLite's (extended) result code. */
export interface SqliteError extends Error {
  code?: string;
  errcode?: number;
  errstr?: string;
}

const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Whether `err` says the file is not a sound database (damaged, truncated, not SQLite at all). */
export function isSqliteDamage(err: unknown): boolean {
  const code = (err as SqliteError | undefined)?.errcode;
  if (typeof code !== 'number') return false;
  const primary = code & 0xff;
  return primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB;
}

let loaded: SqliteModule | null | undefined;

/** node:sqlite, or undefined where this Node.js has none (Node 20, or 22 before 22.13 without a flag). */
export function loadSqlite(): SqliteModule | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const message = typeof warning === 'string' ? warning : warning.message;
    const name = typeof warning === 'string' ? type : warning.name;
    if (name === 'ExperimentalWarning' && message.startsWith('SQLite is an experimental feature')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const mod = (typeof getBuiltin === 'function' ? getBuiltin.call(process, 'node:sqlite') : requireSqlite()) as SqliteModule | undefined;
    loaded = mod !== undefined && typeof mod.DatabaseSync === 'function' ? mod : null;
  } catch {
    loaded = null;
  } finally {
    process.emitWarning = emitWarning;
  }
  return loaded ?? undefined;
}

function requireSqlite(): unknown {
  try {
    return createRequire(import.meta.url)('node:sqlite');
  } catch {
    return undefined;
  }
}
