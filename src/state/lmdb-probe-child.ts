/**
 * The child process of the LMDB check (lmdb-check.ts): opens one LMDB
 * environment and reads every record of every table, keys and
 * values as raw bytes, so LMDB follows every branch, leaf and overflow page a
 * later read could reach. LMDB trusts its file: a damaged one ends this
 * process with SIGSEGV, SIGBUS or an abort, or an LMDB error (MDB_INVALID,
 * MDB_CORRUPTED, MDB_PAGE_NOTFOUND), never the process that asked.
 *
 * Usage: node lmdb-probe-child.js <path> <maxDbs>. Prints one line of JSON,
 * `{"tables":N,"records":N}`, and exits 0 when every record was read and a
 * write (aborted: nothing is written) found the pages it needs.
 */
import { open } from 'lmdb';

/** A value this size takes 256 contiguous pages: LMDB reads the free-page table looking for them. */
const WRITE_PROBE_BYTES = 1 << 20;

class Aborted extends Error {}

const [file, maxDbsArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: lmdb-probe-child <path> <maxDbs>\n');
  process.exit(64);
}
try {
  // Opened as synker opens it, not read-only: lmdb-js's first open of a file may roll back to
  // an earlier snapshot (overlappingSync, MDB_PREVSNAPSHOT), which a read-only open would not
  // pick; the tree read here must be the one the asking process will read.
  const root = open({ path: file, maxDbs: Number(maxDbsArg ?? 8), encoding: 'binary', keyEncoding: 'binary' });
  // First, while no read transaction is open (LMDB reuses only pages freed before the oldest
  // reader): writes read what reads never do, the free-page table (LMDB's own). A write that
  // needs many pages, aborted: nothing reaches the file.
  root.resetReadTxn(); // the one lmdb-js's open leaves
  try {
    root.transactionSync(() => {
      root.putSync(Buffer.from('\u0000synker-check'), Buffer.alloc(WRITE_PROBE_BYTES));
      throw new Aborted();
    });
  } catch (err) {
    if (!(err instanceof Aborted)) throw err;
  }
  let tables = 0;
  let records = 0;
  let bytes = 0;
  // The main table: every named table has its record here (its name as key).
  const names: Buffer[] = [];
  for (const { key, value } of root.getRange({})) {
    records++;
    bytes += (value as Buffer).length;
    names.push(Buffer.from(key as Buffer));
  }
  for (const name of names) {
    let db: ReturnType<typeof root.openDB> | undefined;
    try {
      db = root.openDB(name.toString('utf8'), { encoding: 'binary', keyEncoding: 'binary' });
    } catch {
      continue; // a plain record of the main table, not a table
    }
    tables++;
    let read = 0;
    let previous: Buffer | undefined;
    for (const { key, value } of db.getRange({})) {
      read++;
      // Keys come in order: a damaged page can send the walk elsewhere, never back.
      const k = key as Buffer;
      if (previous !== undefined && Buffer.compare(previous, k) >= 0) throw new Error(`table ${name.toString('utf8')}: keys out of order`);
      previous = Buffer.from(k);
      // Touch the bytes: a value on overflow pages is read to its end.
      const v = value as Buffer;
      bytes += k.length + v.length + (v.length > 0 ? v[v.length - 1]! & 0 : 0);
    }
    // The table's own count (in its record in the main table) against what the walk found:
    // a damaged branch or leaf page that hides records is caught here.
    const counted = (db.getStats() as { entryCount?: number }).entryCount;
    if (counted !== read) throw new Error(`table ${name.toString('utf8')}: ${read} records read, ${String(counted)} counted`);
    records += read;
  }
  await root.close();
  process.stdout.write(`${JSON.stringify({ tables, records, bytes })}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
