/**
 * The part of the index one enterprise's metrics read, loaded by keyed reads only: its orders,
 * receivables (with their split descendants and every loan they were pledged to), loans, and the
 * participant entries of the enterprise and its buyers; the same records walkRecords visits. A store
 * that cannot hold the whole index in memory (PostgreSQL) answers the few lookups of `IndexReader`
 * and the metrics are computed over the returned slice, with the same values as over the whole index
 * (test/service/metrics.test.ts checks every enterprise and day of its scenarios).
 */
import { emptyIndexState, type Address, type IndexState } from "../domain/entities";
import { listOf, type IndexReader } from "../store/index-reader";

/** Split depth is bounded on chain (each split consumes ids); the cap only guards a corrupt index. */
const MAX_SPLIT_DEPTH = 64;

/** A small IndexState holding exactly the records the metrics of `enterprise` read. */
export async function loadEnterpriseSlice(reader: IndexReader, enterprise: Address): Promise<IndexState> {
  const e = enterprise.toLowerCase() as Address;
  const slice = emptyIndexState();
  const [orderIds, receivableIds, loanIds] = await Promise.all([
    listOf(reader, "ordersByParty", e),
    listOf(reader, "receivablesByParty", e),
    listOf(reader, "loansByParty", e),
  ]);
  slice.ordersByParty[e] = [...orderIds];
  slice.receivablesByParty[e] = [...receivableIds];
  slice.loansByParty[e] = [...loanIds];

  const buyers = new Set<Address>();
  (await reader.records("orders", orderIds)).forEach((o, i) => {
    if (!o) return;
    slice.orders[orderIds[i]] = o;
    if (o.supplier === e) buyers.add(o.buyer);
  });

  // Receivables level by level down the split trees, with the loans they were pledged to.
  const loanWanted = new Set<string>(loanIds);
  let level: string[] = [...receivableIds];
  for (let depth = 0; level.length > 0 && depth <= MAX_SPLIT_DEPTH; depth++) {
    const fresh = [...new Set(level)].filter((id) => !(id in slice.receivables));
    const next: string[] = [];
    (await reader.records("receivables", fresh)).forEach((r, i) => {
      if (!r) return;
      slice.receivables[fresh[i]] = r;
      for (const p of r.pledges ?? []) loanWanted.add(p.loanId);
      if (r.pledgedLoanId !== undefined) loanWanted.add(r.pledgedLoanId);
      for (const c of r.childIds ?? []) next.push(c);
    });
    level = next;
  }
  const wantedLoans = [...loanWanted];
  (await reader.records("loans", wantedLoans)).forEach((l, i) => {
    if (l) slice.loans[wantedLoans[i]] = l;
  });
  const addresses = [e, ...[...buyers].filter((b) => b !== e)];
  (await reader.records("participants", addresses)).forEach((p, i) => {
    if (p) slice.participants[addresses[i]] = p;
  });
  return slice;
}
