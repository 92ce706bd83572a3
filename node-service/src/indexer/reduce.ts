/** Handler stage: routes each decoded event to its contract's pure reducer and applies the result. */
import type { IndexState } from "../domain/entities";
import type { DecodedEvent, IndexedContract } from "./decode";
import { applyMutations, BlockUndoRecorder, push, type BlockUndo, type ChangeSet, type Mutation } from "../domain/mutations";
import type { Reducer } from "./reducers/common";
import { reduceConsentRegistry } from "./reducers/consentRegistry";
import { reduceEvidenceNotary } from "./reducers/evidenceNotary";
import { reduceLoanAgreements } from "./reducers/loanAgreements";
import { reduceParticipantRegistry } from "./reducers/participantRegistry";
import { reduceReceivables } from "./reducers/receivables";
import { reduceSettlementToken } from "./reducers/settlementToken";
import { reduceTradeOrders } from "./reducers/tradeOrders";

const REDUCERS: Record<IndexedContract, Reducer> = {
  ParticipantRegistry: reduceParticipantRegistry,
  TradeOrders: reduceTradeOrders,
  Receivables: reduceReceivables,
  LoanAgreements: reduceLoanAgreements,
  ConsentRegistry: reduceConsentRegistry,
  EvidenceNotary: reduceEvidenceNotary,
  SettlementToken: reduceSettlementToken,
};

/**
 * All mutations one event causes: its contract's reducer, plus its place in eventsByTx (token events
 * stay out of eventsByTx: the transfers that matter are in `transfers`, the rest is not ours).
 */
export function reduceEvent(state: Readonly<IndexState>, ev: DecodedEvent): Mutation[] {
  const reducer = REDUCERS[ev.ref.contract as IndexedContract];
  if (!reducer) throw new Error(`no reducer for contract ${ev.ref.contract}`);
  if (ev.ref.contract === "SettlementToken") return reducer(state, ev);
  return [...reducer(state, ev), push("eventsByTx", ev.ref.txHash, ev.ref)];
}

/**
 * Applies events (in chain order) to `state` in place. With `undo`, also returns one BlockUndo per
 * block that had events, so those blocks can be rolled back on a reorg. With `changes`, notes what changed.
 */
export function applyEvents(state: IndexState, events: DecodedEvent[], undo: boolean, changes?: ChangeSet): BlockUndo[] {
  const blocks: BlockUndo[] = [];
  let recorder: BlockUndoRecorder | undefined;
  for (const ev of events) {
    if (undo && recorder?.block.blockNumber !== ev.ref.blockNumber) {
      recorder = new BlockUndoRecorder(ev.ref.blockNumber);
      blocks.push(recorder.block);
    }
    applyMutations(state, reduceEvent(state, ev), recorder, changes);
    state.eventCount += 1;
    if (recorder) recorder.block.events += 1;
  }
  return blocks;
}
