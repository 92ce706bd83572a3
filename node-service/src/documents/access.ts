/**
 * Who may read a stored document: an uploader, the parties of the order, receivable or loan it is
 * linked to, an auditor, or a lender within the "documents" consent scope of the document's data
 * subject (checked on chain at the latest block time). Everyone else is told it does not exist.
 */
import type { Address } from "viem";
import { ROLE, SCOPE } from "../chain/eip712";
import type { ChainAuthority, ConsentInForce } from "../auth/chain-authority";
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

/**
 * Why `session` may read the document, and whose data it reads (the subjects other than the reader,
 * for the access log), or null when it may not. A lender's consent is the one of the subject that
 * granted it the documents scope.
 */
export interface DocumentReadGrant {
  basis: "owner" | "party" | "auditor" | "consent";
  /** The data subjects read by someone other than themselves (empty for an uploader reading its own file). */
  subjects: Address[];
  consent?: ConsentInForce;
}

export async function documentReadGrant(deps: AccessDeps, session: Session, record: DocumentRecord): Promise<DocumentReadGrant | null> {
  const me = session.address.toLowerCase() as Address;
  const state = deps.state();
  const others = () => subjectsOf(state, record).filter((s) => s !== me);
  if (record.uploads.some((u) => u.owner === me)) return { basis: "owner", subjects: others() };
  if (record.uploads.some((u) => u.link && partiesOf(state, u.link).includes(me))) return { basis: "party", subjects: others() };
  if ((session.roles & ROLE.AUDITOR) !== 0) return { basis: "auditor", subjects: others() };
  if ((session.roles & ROLE.LENDER) === 0) return null;
  for (const subject of others()) {
    const consent = await deps.authority.consentInForce(subject, me);
    if ((consent.scopes & SCOPE.documents) !== 0) return { basis: "consent", subjects: [subject], consent };
  }
  return null;
}

export async function canReadDocument(deps: AccessDeps, session: Session, record: DocumentRecord): Promise<boolean> {
  return (await documentReadGrant(deps, session, record)) !== null;
}
