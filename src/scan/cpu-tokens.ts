/**
 * A counting semaphore shared by the hash threads through a
 * SharedArrayBuffer: at most `jobs` threads hash at once, while more threads
 * (the I/O concurrency) can wait on disk reads. Only worker threads may
 * acquire (Atomics.wait blocks).
 */
export function createCpuTokens(count: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(4);
  Atomics.store(new Int32Array(buffer), 0, count);
  return buffer;
}

export class CpuTokens {
  private readonly cell: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cell = new Int32Array(buffer);
  }

  acquire(): void {
    for (;;) {
      const free = Atomics.load(this.cell, 0);
      if (free > 0) {
        if (Atomics.compareExchange(this.cell, 0, free, free - 1) === free) return;
        continue;
      }
      Atomics.wait(this.cell, 0, free);
    }
  }

  release(): void {
    Atomics.add(this.cell, 0, 1);
    Atomics.notify(this.cell, 0, 1);
  }
}
