/**
 * Who may read a stored document: an uploader, the parties of the order, receivable or loan it is
 * linked to, an auditor, or a lender within the "documents" consent scope of the document's data
 * subject (checked on chain at the latest block time). Everyone else is told it does not exist.
 */
import type { Address } from "viem";
import { ROLE, SCOPE } from "../chain/eip712";
import type { ChainAuthority } from "../auth/chain-authority";
import type { IndexState } from "../domain/entities";
import type { Session } from "../domain/session";
import type { DocumentLink, DocumentRecord } from "./store";

export interface AccessDeps {
  state: () => IndexState;
  /** The API's one consent check (on chain, at the latest block, never cached). */
  authority: Pick<ChainAuthority, "consentInForce">;
}

/** Parties of a linked record, lowercase. */
export function partiesOf(state: IndexState, link: DocumentLink): Address[] {
  if (link.type === "order") {
    const o = state.orders[link.id];
    return o ? [o.buyer, o.supplier] : [];
  }
  if (link.type === "receivable") {
    const r = state.receivables[link.id];
    return r ? [...new Set([r.issuer, r.debtor, r.holder])] : [];
  }
  const l = state.loans[link.id];
  return l ? [l.borrower, l.lender] : [];
}

/** Whose data the document is: its uploaders and the borrower-side party of each link. */
function subjectsOf(state: IndexState, record: DocumentRecord): Address[] {
  const subjects = new Set<Address>(record.uploads.map((u) => u.owner));
  for (const { link } of record.uploads) {
    if (!link) continue;
    if (link.type === "order" && state.orders[link.id]) subjects.add(state.orders[link.id].supplier);
    if (link.type === "receivable" && state.receivables[link.id]) subjects.add(state.receivables[link.id].issuer);
    if (link.type === "loan" && state.loans[link.id]) subjects.add(state.loans[link.id].borrower);
  }
  return [...subjects];
}

export async function canReadDocument(deps: AccessDeps, session: Session, record: DocumentRecord): Promise<boolean> {
  const me = session.address.toLowerCase() as Address;
  if (record.uploads.some((u) => u.owner === me)) return true;
  const state = deps.state();
  if (record.uploads.some((u) => u.link && partiesOf(state, u.link).includes(me))) return true;
  if ((session.roles & ROLE.AUDITOR) !== 0) return true;
  if ((session.roles & ROLE.LENDER) === 0) return false;
  for (const subject of subjectsOf(state, record)) {
    if (subject === me) continue;
    const { scopes } = await deps.authority.consentInForce(subject, me);
    if ((scopes & SCOPE.documents) !== 0) return true;
  }
  return false;
}
