/**
 * Group commit: items added while a write runs wait for it to end and then go together in the next
 * write, so N writers at once cost about one write (one fsync, one COMMIT) instead of N queued ones. One
 * write runs at a time, in the order the items were added. `write` returns one result per item, in
 * order (a `Refused` rejects that item alone); when it throws, every item of that write is rejected
 * with its error, and the next write runs.
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly write: (items: T[]) => Promise<(R | Refused)[]>) {}

  /** Resolves with the item's result once the write that carried it has ended. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) this.running = this.drain();
    });
  }

  /** Resolves once every item added so far has been written or rejected. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let results: (R | Refused)[];
      try {
        results = await this.write(batch.map((b) => b.item));
        if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
      } catch (err) {
        for (const b of batch) b.reject(err);
        continue;
      }
      batch.forEach((b, i) => {
        const r = results[i];
        if (r instanceof Refused) b.reject(r.error);
        else b.resolve(r);
      });
    }
    this.running = null;
  }
}

/** A write's result for an item it could not write while it wrote the others. */
export class Refused {
  constructor(readonly error: unknown) {}
}
