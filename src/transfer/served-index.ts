/**
 * The files of a manifest a source sent in this session, so it can serve
 * exactly those and nothing else. Entries arrive in manifest order, so the
 * index is append-only sorted arrays searched by binary search: about 100
 * bytes per file (a 1,000,000-file folder: ~100 MB for the session's life).
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { comparePaths } from '../manifest/order.js';

const HASH_BYTES = 32;

export class ServedManifestIndex {
  private readonly paths: string[] = [];
  /** On-disk path where it differs from the key; sparse. */
  private readonly raws = new Map<number, string>();
  private sizes = new Float64Array(1024);
  private mtimes = new Float64Array(1024);
  private modes = new Uint16Array(1024);
  private hashes = Buffer.alloc(1024 * HASH_BYTES);
  private sorted = true;
  private readonly ambiguous = new Set<number>();

  get size(): number {
    return this.paths.length;
  }

  /** Records a hashed regular file; everything else is never served. */
  add(entry: ManifestEntry): void {
    if (entry.type !== 'file' || entry.hash === undefined || !/^[0-9a-f]{64}$/.test(entry.hash)) return;
    const i = this.paths.length;
    const order = i > 0 ? comparePaths(this.paths[i - 1]!, entry.path) : -1;
    if (order === 0) {
      // Two on-disk names with one NFC key (an nfc-clash): a request by key cannot say which.
      this.ambiguous.add(i - 1);
      return;
    }
    if (order > 0) this.sorted = false;
    if (i === this.sizes.length) this.grow();
    this.paths.push(entry.path);
    if (entry.raw !== undefined) this.raws.set(i, entry.raw);
    this.sizes[i] = entry.size;
    this.mtimes[i] = entry.mtime;
    this.modes[i] = entry.mode;
    this.hashes.write(entry.hash, i * HASH_BYTES, 'hex');
  }

  lookup(path: string): ManifestEntry | undefined {
    const i = this.indexOf(path);
    if (i < 0 || this.ambiguous.has(i)) return undefined;
    const raw = this.raws.get(i);
    return {
      path,
      type: 'file',
      size: this.sizes[i]!,
      mtime: this.mtimes[i]!,
      mode: this.modes[i]!,
      hash: this.hashes.toString('hex', i * HASH_BYTES, (i + 1) * HASH_BYTES),
      ...(raw === undefined ? {} : { raw }),
    };
  }

  private indexOf(path: string): number {
    if (!this.sorted) return this.paths.indexOf(path);
    let lo = 0;
    let hi = this.paths.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePaths(this.paths[mid]!, path);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private grow(): void {
    const n = this.sizes.length * 2;
    const sizes = new Float64Array(n);
    sizes.set(this.sizes);
    const mtimes = new Float64Array(n);
    mtimes.set(this.mtimes);
    const modes = new Uint16Array(n);
    modes.set(this.modes);
    const hashes = Buffer.alloc(n * HASH_BYTES);
    this.hashes.copy(hashes);
    this.sizes = sizes;
    this.mtimes = mtimes;
    this.modes = modes;
    this.hashes = hashes;
  }
}
