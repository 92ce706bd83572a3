/** EvidenceNotary events -> anchors (single documents and batch roots) and later repeats of a hash. */
import type { AnchorEntity } from "../../domain/entities";
import { put } from "../../domain/mutations";
import { addr, hex, must, num, type Reducer } from "./common";

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
        repeats: [],
      };
      if (ev.name === "BatchAnchored") anchor.batchCount = num(a.count);
      return [put("anchors", documentHash, anchor)];
    }
    case "AnchorRepeated": {
      const documentHash = hex(a.documentHash);
      const first = must(state.anchors[documentHash], `anchor ${documentHash}`, ev);
      return [put("anchors", documentHash, { ...first, repeats: [...first.repeats, { by: addr(a.by), ref: ev.ref }] })];
    }
    default:
      throw new Error(`no reducer for EvidenceNotary.${ev.name}`);
  }
};
