/**
 * Many point reads of a sorted store made as one forward pass of a cursor.
 *
 * A scan asks for every file's record in manifest order, which is nearly
 * the store's key order: following a cursor costs about half of one B-tree
 * search and key encoding per read. Where the two orders disagree (a name
 * with a character below `/`, such as `a-b` next to the folder `a`), or the
 * key is simply absent, the cursor has moved past it and the read falls back
 * to the point read. So an answer never depends on the order: a record is
 * taken from the cursor only when its key is exactly the one asked for, and
 * every other key is read the ordinary way.
 */
export interface KeyedRecord<V> {
  key: string;
  value: V;
}

export class OrderedLookup<V> {
  private current: KeyedRecord<V> | undefined;
  private exhausted = false;
  /** Reads answered by the cursor and by point reads (for tests and debugging). */
  readonly counts = { cursor: 0, point: 0 };

  /**
   * @param cursor the store's records in key order (UTF-8 byte order of the keys).
   * @param pointRead the ordinary read of one key.
   */
  constructor(
    private readonly cursor: Iterator<KeyedRecord<V>>,
    private readonly pointRead: (key: string) => V | undefined,
  ) {}

  get(key: string): V | undefined {
    if (!this.exhausted) {
      // JavaScript's `<` is UTF-16 order, UTF-8 byte order but for astral characters: a
      // disagreement there only sends that read to the point read.
      while (this.current === undefined || this.current.key < key) {
        const step = this.cursor.next();
        if (step.done === true) {
          this.exhausted = true;
          this.current = undefined;
          break;
        }
        this.current = step.value;
      }
      if (this.current !== undefined && this.current.key === key) {
        this.counts.cursor++;
        return this.current.value;
      }
    }
    this.counts.point++;
    return this.pointRead(key);
  }

  /** Release the cursor (its read transaction). Reads after this are point reads. */
  close(): void {
    if (this.exhausted) return;
    this.exhausted = true;
    this.current = undefined;
    this.cursor.return?.();
  }
}
