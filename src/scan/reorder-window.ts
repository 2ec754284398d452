/**
 * A FIFO of results that complete out of order but must leave in order: the
 * head leaves only when it is complete. The scan bounds its size.
 */
interface Slot<T> {
  value?: T;
  promise?: Promise<T>;
  ready: boolean;
}

export class ReorderWindow<T> {
  private slots: Slot<T>[] = [];
  private head = 0;

  get size(): number {
    return this.slots.length - this.head;
  }

  push(value: T | Promise<T>): void {
    if (value instanceof Promise) {
      const slot: Slot<T> = { promise: value, ready: false };
      value.then(
        (v) => {
          slot.value = v;
          slot.ready = true;
        },
        () => {
          slot.ready = true; // the error surfaces when the slot is shifted
        },
      );
      this.slots.push(slot);
    } else {
      this.slots.push({ value, ready: true });
    }
  }

  /** True when the oldest slot can leave without waiting. */
  headReady(): boolean {
    return this.size > 0 && this.slots[this.head]!.ready;
  }

  /** Remove the oldest slot, waiting for it to complete. */
  async shift(): Promise<T> {
    if (this.size === 0) throw new Error('reorder window is empty');
    const slot = this.slots[this.head]!;
    this.slots[this.head] = undefined as unknown as Slot<T>;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    return slot.promise && slot.value === undefined ? await slot.promise : (slot.value as T);
  }

  /** Wait until nothing is pending any more (results are dropped). */
  async settle(): Promise<void> {
    const pending = this.slots.slice(this.head).filter((s) => s.promise !== undefined && !s.ready);
    this.slots = [];
    this.head = 0;
    await Promise.allSettled(pending.map((s) => s.promise));
  }
}
