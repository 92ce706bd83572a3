/**
 * Who may read a stored document: an uploader, the parties of the order, receivable or loan it is
 * linked to, an auditor, or a lender within the "documents" consent scope of the document's data
 * subject (checked on chain at the latest block time). Everyone else is told it does not exist.
 */
import type { Address } from "viem";
import { ROLE, SCOPE } from "../chain/eip712";
import type { ChainAuthority, ConsentInForce } from "../auth/chain-authority";
import { recordOf, type IndexReader } from "../store/index-reader";
import type { Session } from "../domain/session";
import type { DocumentLink, DocumentRecord } from "./store";

export interface AccessDeps {
  /** Keyed reads of the index (in memory on an indexing process, the committed index on a reader). */
  index: () => IndexReader;
  /** The API's one consent check (on chain, at the latest block, never cached). */
  authority: Pick<ChainAuthority, "consentInForce">;
}

/** A linked record's parties (lowercase) and whose data it is (its borrower-side party); null when not indexed. */
async function linkedRecord(index: IndexReader, link: DocumentLink): Promise<{ parties: Address[]; subject: Address } | null> {
  if (link.type === "order") {
    const o = await recordOf(index, "orders", link.id);
    return o ? { parties: [o.buyer, o.supplier], subject: o.supplier } : null;
  }
  if (link.type === "receivable") {
    const r = await recordOf(index, "receivables", link.id);
    return r ? { parties: [...new Set([r.issuer, r.debtor, r.holder])], subject: r.issuer } : null;
  }
  const l = await recordOf(index, "loans", link.id);
  return l ? { parties: [l.borrower, l.lender], subject: l.borrower } : null;
}

/** Parties of a linked record, lowercase. */
export async function partiesOf(index: IndexReader, link: DocumentLink): Promise<Address[]> {
  return (await linkedRecord(index, link))?.parties ?? [];
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
  // Each linked record read once: who is a party of it, and whose data the document is (its uploaders
  // and the borrower-side party of each link).
  const index = deps.index();
  const links = await Promise.all(record.uploads.flatMap(({ link }) => (link ? [linkedRecord(index, link)] : [])));
  const subjects = new Set<Address>(record.uploads.map((u) => u.owner));
  for (const l of links) if (l) subjects.add(l.subject);
  const others = [...subjects].filter((s) => s !== me);
  if (record.uploads.some((u) => u.owner === me)) return { basis: "owner", subjects: others };
  if (links.some((l) => l?.parties.includes(me))) return { basis: "party", subjects: others };
  if ((session.roles & ROLE.AUDITOR) !== 0) return { basis: "auditor", subjects: others };
  if ((session.roles & ROLE.LENDER) === 0) return null;
  for (const subject of others) {
    const consent = await deps.authority.consentInForce(subject, me);
    if ((consent.scopes & SCOPE.documents) !== 0) return { basis: "consent", subjects: [subject], consent };
  }
  return null;
}

export async function canReadDocument(deps: AccessDeps, session: Session, record: DocumentRecord): Promise<boolean> {
  return (await documentReadGrant(deps, session, record)) !== null;
}
