/** A full garbage collection on demand, for figures of what is live (benches) and tests of the heap's gauges. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// V8 gives `gc` to contexts created after the flag is set, so a new context hands it over.
setFlagsFromString("--expose-gc");
/** Runs a full (mark-compact) collection of this process's heap. */
export const collectGarbage = runInNewContext("gc") as () => void;

/** Heap in use after a full collection: what is live, not garbage. */
export function liveHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
