/**
 * The child process of the LMDB check (lmdb-check.ts): opens one LMDB
 * environment read-only and reads every record of every table, keys and
 * values as raw bytes, so LMDB follows every branch, leaf and overflow page a
 * later read could reach. LMDB trusts its file: a damaged one ends this
 * process with SIGSEGV, SIGBUS or an abort, or an LMDB error (MDB_INVALID,
 * MDB_CORRUPTED, MDB_PAGE_NOTFOUND), never the process that asked.
 *
 * Usage: node lmdb-probe-child.js <path> <maxDbs>. Prints one line of JSON,
 * `{"tables":N,"records":N}`, and exits 0 when every record was read.
 */
import { open } from 'lmdb';

const [file, maxDbsArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: lmdb-probe-child <path> <maxDbs>\n');
  process.exit(64);
}
try {
  const root = open({ path: file, maxDbs: Number(maxDbsArg ?? 8), readOnly: true, encoding: 'binary', keyEncoding: 'binary' });
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
