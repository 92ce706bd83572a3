/**
 * Keyed reads of the chain index: what a caller that does not walk the whole index asks of it (one
 * party's ids, records by id). Over the index in memory here; over the committed index in PostgreSQL in
 * store/postgres/index-reader.ts.
 */
import type { Address, IndexState, LoanEntity, OrderEntity, ParticipantEntity, ReceivableEntity } from "../domain/entities";

/** Keyed reads of the index (ids of one party's records in index order; records by id). */
export interface IndexReader {
  orderIdsOf(party: Address): Promise<readonly string[]>;
  receivableIdsOf(party: Address): Promise<readonly string[]>;
  loanIdsOf(party: Address): Promise<readonly string[]>;
  orders(ids: readonly string[]): Promise<(OrderEntity | undefined)[]>;
  receivables(ids: readonly string[]): Promise<(ReceivableEntity | undefined)[]>;
  loans(ids: readonly string[]): Promise<(LoanEntity | undefined)[]>;
  participants(addresses: readonly Address[]): Promise<(ParticipantEntity | undefined)[]>;
}

/** The reader over an in-memory index (lowdb's): lookups in the state's maps. */
export function stateReader(state: IndexState): IndexReader {
  return {
    orderIdsOf: async (p) => state.ordersByParty[p] ?? [],
    receivableIdsOf: async (p) => state.receivablesByParty[p] ?? [],
    loanIdsOf: async (p) => state.loansByParty[p] ?? [],
    orders: async (ids) => ids.map((id) => state.orders[id]),
    receivables: async (ids) => ids.map((id) => state.receivables[id]),
    loans: async (ids) => ids.map((id) => state.loans[id]),
    participants: async (as) => as.map((a) => state.participants[a]),
  };
}
