/**
 * A FIFO of results that complete out of order but must leave in order: the
 * head leaves only when it is complete. Slots are completed by callback (no
 * promise per file); only waiting for the head creates a promise. The scan
 * bounds its size.
 */
export interface PendingSlot<T> {
  value?: T;
  error?: unknown;
  done: boolean;
}

export class ReorderWindow<T> {
  private slots: (PendingSlot<T> | undefined)[] = [];
  private head = 0;
  private headWaiter: (() => void) | undefined;

  get size(): number {
    return this.slots.length - this.head;
  }

  /** Append a complete value. */
  push(value: T): void {
    this.slots.push({ value, done: true });
  }

  /** Append a slot to be completed later with complete() or fail(). */
  reserve(): PendingSlot<T> {
    const slot: PendingSlot<T> = { done: false };
    this.slots.push(slot);
    return slot;
  }

  complete(slot: PendingSlot<T>, value: T): void {
    slot.value = value;
    this.settle(slot);
  }

  fail(slot: PendingSlot<T>, error: unknown): void {
    slot.error = error;
    this.settle(slot);
  }

  /** True when the oldest slot can leave without waiting. */
  headReady(): boolean {
    return this.head < this.slots.length && this.slots[this.head]!.done;
  }

  /** Remove the oldest slot, which must be complete; throws its error if it failed. */
  shiftReady(): T {
    const slot = this.slots[this.head]!;
    this.slots[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    if (slot.error !== undefined) throw slot.error;
    return slot.value as T;
  }

  /** Remove the oldest slot, waiting for it to complete. */
  async shift(): Promise<T> {
    if (this.size === 0) throw new Error('reorder window is empty');
    if (!this.headReady()) await new Promise<void>((resolve) => (this.headWaiter = resolve));
    return this.shiftReady();
  }

  private settle(slot: PendingSlot<T>): void {
    slot.done = true;
    if (this.headWaiter && slot === this.slots[this.head]) {
      const wake = this.headWaiter;
      this.headWaiter = undefined;
      wake();
    }
  }
}
