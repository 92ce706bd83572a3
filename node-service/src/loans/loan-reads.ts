/**
 * The loans and consents a borrower or lender sees (GET /api/loans, /api/loans/:id, /api/consents),
 * whichever way the process holds the index: the whole index in memory (an indexing process), or, for
 * a reader process (SERVICE_ROLE=reader), only the party's loans and the receivables their views name,
 * read by key from the committed index on one snapshot, and the consent rows that name the party.
 * Either way loanView renders the loans from the same records (and computePortfolio a lender's).
 */
import { emptyIndexState, type Address, type ConsentEntity, type IndexState, type LoanEntity } from "../domain/entities";
import { listOf, type IndexReader } from "../store/index-reader";
import type { PostgresIndexReader } from "../store/postgres/index-reader";
import { loansOf } from "./view";

/** Loans with an index holding what loanView reads of them (their collateral and collected receivables). */
export interface LoansWithRecords {
  loans: LoanEntity[];
  state: IndexState;
}

export interface LoanReads {
  /** The party's loans (as borrower or lender), newest first. */
  ofParty(party: Address): Promise<LoansWithRecords>;
  /** The loan `id`, if indexed (none: `loans` is empty). */
  one(id: string): Promise<LoansWithRecords>;
  /** The consents `party` granted (role borrower) or holds (role lender), in no particular order. */
  consentsOf(party: Address, role: "borrower" | "lender"): Promise<ConsentEntity[]>;
  /**
   * What the lender's portfolio reads (lending/portfolio.ts): its loans, the receivables they name, and
   * the registry entries of the lender, the borrowers and the debtors (for their names).
   */
  portfolioOf(lender: Address): Promise<IndexState>;
}

export function inMemoryLoanReads(state: () => IndexState): LoanReads {
  return {
    ofParty: async (party) => {
      const s = state();
      return { loans: loansOf(s, party), state: s };
    },
    one: async (id) => {
      const s = state();
      const loan = s.loans[id];
      return { loans: loan ? [loan] : [], state: s };
    },
    consentsOf: async (party, role) => Object.values(state().consents).filter((c) => c[role] === party),
    portfolioOf: async () => state(),
  };
}

/** The loans `ids` and the receivables loanView reads of them, as a small index. */
async function loanSlice(r: IndexReader, ids: readonly string[]): Promise<IndexState> {
  const slice = emptyIndexState();
  const loans = (await r.records("loans", ids)).filter((l): l is LoanEntity => l !== undefined);
  for (const l of loans) slice.loans[l.id] = l;
  const named = [
    ...new Set(loans.flatMap((l) => [...l.collateral, ...l.repayments.flatMap((p) => (p.receivableId ? [p.receivableId] : []))])),
  ];
  (await r.records("receivables", named)).forEach((rec, i) => {
    if (rec) slice.receivables[named[i]] = rec;
  });
  return slice;
}

/** The party's loans (its list kept in the slice) and the receivables loanView reads of them. */
async function partySlice(r: IndexReader, party: Address): Promise<IndexState> {
  const ids = await listOf(r, "loansByParty", party);
  const slice = await loanSlice(r, ids);
  slice.loansByParty[party] = [...ids];
  return slice;
}

/** Read on each request (a page of loans is not kept: its size grows with the party's history). */
export function committedLoanReads(reader: PostgresIndexReader): LoanReads {
  return {
    ofParty: async (party) => {
      const { value: state } = await reader.inSnapshot((r) => partySlice(r, party));
      return { loans: loansOf(state, party), state };
    },
    one: async (id) => {
      const { value: state } = await reader.inSnapshot((r) => loanSlice(r, [id]));
      const loan = state.loans[id];
      return { loans: loan ? [loan] : [], state };
    },
    consentsOf: (party, role) => reader.consentsOf(party, role),
    portfolioOf: async (lender) => {
      const { value } = await reader.inSnapshot(async (r) => {
        const slice = await partySlice(r, lender);
        const parties = [
          ...new Set([
            lender,
            ...Object.values(slice.loans).map((l) => l.borrower),
            ...Object.values(slice.receivables).map((rec) => rec.debtor),
          ]),
        ];
        (await r.records("participants", parties)).forEach((p, i) => {
          if (p) slice.participants[parties[i]] = p;
        });
        return slice;
      });
      return value;
    },
  };
}
