/**
 * SettlementToken Transfer events -> transfers with an admitted participant on at least one side,
 * and the per-party transfer lists the risk screen follows. Approvals, role events and transfers
 * between outsiders are dropped.
 */
import type { TransferEntity } from "../../domain/entities";
import { push, put } from "../../domain/mutations";
import { addr, big, type Reducer } from "./common";

export const reduceSettlementToken: Reducer = (state, ev) => {
  if (ev.name !== "Transfer") return [];
  const from = addr(ev.args.from);
  const to = addr(ev.args.to);
  if (!state.participants[from] && !state.participants[to]) return [];
  const t: TransferEntity = {
    id: `${ev.ref.blockNumber}:${ev.ref.logIndex}`,
    from,
    to,
    amount: big(ev.args.value),
    at: ev.ref.at,
    ref: ev.ref,
  };
  const lists = from === to ? [from] : [from, to];
  return [put("transfers", t.id, t), ...lists.map((p) => push("transfersByParty", p, t.id))];
};
