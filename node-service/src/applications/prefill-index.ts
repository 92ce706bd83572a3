/**
 * What the application form's prefill reads of the index, for a reader process (SERVICE_ROLE=reader),
 * which holds none in memory: the borrower's slice (its receivables, with the loans they were pledged
 * to) and the slice of each debtor of a receivable it holds (their metrics set each advance), on one
 * snapshot of the committed index, and every participant's registry entry (the lenders to choose
 * from), one statement beside it. The prefill then computes over this as over the whole index.
 */
import type { Address, IndexState } from "../domain/entities";
import { loadEnterpriseSlice, mergeSlices } from "../metrics/slice";
import type { PostgresIndexReader } from "../store/postgres/index-reader";

export async function committedPrefillIndex(reader: PostgresIndexReader, borrower: Address): Promise<IndexState> {
  const b = borrower.toLowerCase() as Address;
  const [{ value: index }, participants] = await Promise.all([
    reader.inSnapshot(async (r) => {
      const own = await loadEnterpriseSlice(r, b);
      const debtors = new Set(
        Object.values(own.receivables)
          .filter((x) => x.holder === b && x.debtor !== b)
          .map((x) => x.debtor),
      );
      return mergeSlices([own, ...(await Promise.all([...debtors].map((d) => loadEnterpriseSlice(r, d))))]);
    }),
    reader.participants(),
  ]);
  Object.assign(index.participants, participants);
  return index;
}
