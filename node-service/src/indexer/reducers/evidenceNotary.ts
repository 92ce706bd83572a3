/**
 * EvidenceNotary events -> anchors (single documents and batch roots) and later repeats of a hash. The
 * notary keeps one record per (hash, anchorer); the index keeps the first anchor of each hash and lists
 * every later anchor (by another anchorer, or the same one again) as a repeat.
 */
import type { AnchorEntity } from "../../domain/entities";
import { appended, put } from "../../domain/mutations";
import { addr, hex, must, num, type Reducer } from "./common";
import { NO_ITEMS } from "../../domain/intern";

export const reduceEvidenceNotary: Reducer = (state, ev) => {
  const a = ev.args;
  switch (ev.name) {
    case "Anchored":
    case "BatchAnchored": {
      const documentHash = hex(ev.name === "Anchored" ? a.documentHash : a.root);
      const anchor: AnchorEntity = {
        documentHash,
        anchorer: addr(a.anchorer),
        kind: num(a.kind),
        ref: hex(a.ref),
        at: num(a.at),
        blockNumber: ev.ref.blockNumber,
        anchored: ev.ref,
        repeats: NO_ITEMS,
      };
      if (ev.name === "BatchAnchored") anchor.batchCount = num(a.count);
      const earlier = state.anchors[documentHash];
      if (earlier)
        return [put("anchors", documentHash, { ...earlier, repeats: appended(earlier.repeats, { by: anchor.anchorer, ref: ev.ref }) })];
      return [put("anchors", documentHash, anchor)];
    }
    case "AnchorRepeated": {
      const documentHash = hex(a.documentHash);
      const first = must(state.anchors[documentHash], `anchor ${documentHash}`, ev);
      return [put("anchors", documentHash, { ...first, repeats: appended(first.repeats, { by: addr(a.anchorer), ref: ev.ref }) })];
    }
    default:
      throw new Error(`no reducer for EvidenceNotary.${ev.name}`);
  }
};
