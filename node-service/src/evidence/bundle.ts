/**
 * Builds the self-contained evidence bundle for an agreement, a document, a receivable or an order:
 * every fact as the chain event it comes from (tx, block number and hash, log index, decoded args),
 * the EIP-712 typed data and signatures, the documents' sha256 with their anchors and batch proofs,
 * the parties' admissions, and a plain-language summary. scripts/verify-evidence.ts re-checks it all.
 */
import { hashTypedData, zeroHash, type Address, type Hex } from "viem";
import { loanTermsTypedData, roleNames } from "../chain/eip712";
import { toJsonSafe } from "../domain/json";
import { openingMatches, type NameOpening } from "../domain/name-commitment";
import { NotFoundError } from "../domain/errors";
import { abiOf } from "../chain/contracts";
import type { ChainEvent } from "./chain-events";
import { statementsOf, type BundleFacts } from "./statements";
import { listOf, recordOf } from "../store/index-reader";
import {
  acknowledgmentOfIssued,
  createEvidenceService,
  rootOf,
  termsOf,
  type EvidenceDeps,
  type EvidenceService,
  type HashUse,
} from "./lookup";
import {
  BUNDLE_FORMAT,
  type BundleAnchor,
  type BundleDocument,
  type BundleEvent,
  type BundleKind,
  type BundleParticipant,
  type BundleSignature,
  type BundleTimestamp,
  type EvidenceBundle,
} from "./bundle-format";

export function createBundleBuilder(deps: EvidenceDeps & { evidence?: EvidenceService; now?: () => number }) {
  const evidence = deps.evidence ?? createEvidenceService(deps);
  const { deployment, publicClient } = deps;
  const lower = (a: string) => a.toLowerCase();

  async function buildBundle(kind: BundleKind, id: string): Promise<EvidenceBundle> {
    const events: BundleEvent[] = [];
    const eventIds = new Map<string, string>();
    const participants: BundleParticipant[] = [];
    const documents: BundleDocument[] = [];
    const signatures: BundleSignature[] = [];
    const index = deps.index();
    // A document's uses are read once per bundle (a document bundle asks again for its orders).
    const uses = new Map<Hex, Promise<HashUse[]>>();
    const hashUsesOf = (sha256: Hex) => {
      const key = lower(sha256) as Hex;
      if (!uses.has(key)) uses.set(key, evidence.hashUses(key));
      return uses.get(key)!;
    };
    const names = deps.participantNames
      ? deps.participantNames().catch(() => ({}) as Record<string, NameOpening>)
      : Promise.resolve({} as Record<string, NameOpening>);

    function addEvent(ev: ChainEvent): string {
      const key = `${lower(ev.txHash)}:${ev.logIndex}`;
      let eid = eventIds.get(key);
      if (!eid) {
        eid = `e${events.length + 1}`;
        eventIds.set(key, eid);
        events.push({ id: eid, ...ev });
      }
      return eid;
    }

    async function addParticipant(address: Address): Promise<void> {
      const a = lower(address) as Address;
      if (participants.some((p) => p.address === a)) return;
      const indexed = await recordOf(index, "participants", a);
      let ev = indexed ? await evidence.chain.eventAt(indexed.admitted.txHash, indexed.admitted.logIndex) : null;
      if (!ev) {
        // Not indexed (yet): find the admission on chain.
        const logs = await publicClient.getContractEvents({
          address: deployment.contracts.ParticipantRegistry,
          abi: abiOf("ParticipantRegistry"),
          eventName: "ParticipantAdmitted",
          args: { account: a },
          fromBlock: BigInt(deployment.startBlock),
        });
        if (logs[0]) ev = await evidence.chain.eventAt(logs[0].transactionHash, logs[0].logIndex);
      }
      if (!ev) return;
      const view = await evidence.participant(a);
      // A name goes in only with the salt that opens the registry's commitment (as admitted or as now registered).
      const opening = (await names)[a];
      const proven =
        opening !== undefined &&
        (openingMatches(opening, String(ev.args.displayNameHash)) || openingMatches(opening, indexed?.displayNameHash));
      participants.push({
        address: a,
        roles: view.roles,
        roleNames: roleNames(view.roles),
        admittedIn: addEvent(ev),
        ...(proven ? { name: opening.name, nameSalt: opening.salt } : {}),
      });
    }

    async function addDocument(sha256: Hex, role: string): Promise<BundleDocument | null> {
      if (!sha256 || sha256 === zeroHash) return null;
      const hash = lower(sha256) as Hex;
      const existing = documents.find((d) => d.sha256 === hash);
      if (existing) return existing;
      const anchors: BundleAnchor[] = [];
      const single = await evidence.notaryAnchor(hash);
      if (single?.event && single.via === "notary") {
        anchors.push({ via: "notary", event: addEvent(single.event) });
        await addParticipant(single.anchorer);
      }
      const batch = await evidence.batchAnchor(hash);
      if (batch?.event && batch.batch) {
        anchors.push({ via: "batch", event: addEvent(batch.event), root: batch.batch.root, proof: batch.batch.proof });
        await addParticipant(batch.anchorer);
      }
      for (const use of await hashUsesOf(hash)) {
        if (!use.ref) continue;
        const ev = await evidence.chain.eventAt(use.ref.txHash, use.ref.logIndex);
        if (ev) anchors.push({ via: "record", event: addEvent(ev), field: use.field });
      }
      const uploads = (deps.documents?.get(hash)?.uploads ?? []).map((u) => ({
        by: lower(u.owner),
        kind: u.kind,
        at: new Date(u.uploadedAt).toISOString(),
      }));
      const doc: BundleDocument = { sha256: hash, role, anchors, ...(uploads.length ? { uploads } : {}) };
      documents.push(doc);
      return doc;
    }

    async function addEventsOf(refs: { txHash: Hex; logIndex: number }[]): Promise<ChainEvent[]> {
      const out: ChainEvent[] = [];
      for (const ref of refs) {
        const ev = await evidence.chain.eventAt(ref.txHash, ref.logIndex);
        if (ev) {
          addEvent(ev);
          out.push(ev);
        }
      }
      return out;
    }

    /** The order's events, parties and documents; false when the order is not indexed. */
    async function orderFacts(orderId: string): Promise<boolean> {
      const order = await recordOf(index, "orders", orderId);
      if (!order) return false;
      await addEventsOf(order.events);
      await addParticipant(order.buyer);
      await addParticipant(order.supplier);
      await addDocument(order.documentHash, "purchase order");
      if (order.shippingDocumentHash) await addDocument(order.shippingDocumentHash, "shipping document");
      return true;
    }

    let agreement: EvidenceBundle["agreement"];

    if (kind === "agreement") {
      const loanId = /^0x[0-9a-fA-F]{64}$/.test(id) ? await recordOf(index, "loanByDigest", lower(id)) : id;
      const loan = loanId ? await recordOf(index, "loans", loanId) : undefined;
      if (!loan) throw new NotFoundError(`no agreement ${id} is indexed`);
      const recordedRef = loan.events.find((e) => e.event === "AgreementRecorded");
      const recorded = recordedRef ? await evidence.chain.eventAt(recordedRef.txHash, recordedRef.logIndex) : null;
      if (!recorded) throw new NotFoundError(`the recording of agreement ${loan.id} is not on this chain`);
      // The whole recording transaction (the agreement and the collateral pledges it made).
      for (const ev of await evidence.chain.eventsOfTx(recorded.txHash)) addEvent(ev);
      const recordedIn = addEvent(recorded);
      const terms = termsOf(recorded);
      const typedData = toJsonSafe(
        loanTermsTypedData(deployment.chainId, deployment.contracts.LoanAgreements, terms),
      ) as BundleSignature["typedData"];
      const digest = recorded.args.digest as Hex;
      signatures.push(
        {
          role: "borrower",
          signer: lower(terms.borrower),
          signature: recorded.args.borrowerSignature as Hex,
          typedData,
          digest,
          recordedIn,
        },
        { role: "lender", signer: lower(terms.lender), signature: recorded.args.lenderSignature as Hex, typedData, digest, recordedIn },
      );
      await addParticipant(terms.borrower);
      await addParticipant(terms.lender);
      await addEventsOf(loan.events.filter((e) => e !== recordedRef));
      await addDocument(terms.documentHash, "loan agreement");
      agreement = {
        loanId: loan.id,
        digest,
        borrower: lower(terms.borrower),
        lender: lower(terms.lender),
        documentHash: lower(terms.documentHash),
        recordedIn,
      };
    } else if (kind === "document") {
      if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new NotFoundError(`${id} is not a sha256`);
      const doc = await addDocument(id as Hex, "document");
      if (!doc || doc.anchors.length === 0) throw new NotFoundError(`the document ${id} was never anchored on this chain`);
      for (const use of await hashUsesOf(id as Hex)) {
        if (use.type === "order") await orderFacts(use.id);
      }
    } else if (kind === "receivable") {
      const r = await recordOf(index, "receivables", id);
      if (!r) throw new NotFoundError(`no receivable ${id} is indexed`);
      const root = await rootOf(index, r);
      const rootEvents = await addEventsOf(root.events);
      if (root !== r) await addEventsOf(r.events);
      await addParticipant(r.issuer);
      await addParticipant(r.debtor);
      await addDocument(root.invoiceHash, "invoice");
      const issued = rootEvents.find((e) => e.event === "ReceivableIssued");
      const ack = rootEvents.find((e) => e.event === "ReceivableAcknowledged");
      const sig = ack?.args.signature as Hex | undefined;
      if (issued && ack && sig && sig !== "0x") {
        const typed = acknowledgmentOfIssued(deployment, root.id, issued);
        signatures.push({
          role: "debtor",
          signer: lower(root.debtor),
          signature: sig,
          typedData: toJsonSafe(typed) as BundleSignature["typedData"],
          digest: hashTypedData(typed),
          recordedIn: addEvent(ack),
        });
      }
      await orderFacts(r.orderId);
    } else {
      if (!(await orderFacts(id))) throw new NotFoundError(`no order ${id} is indexed`);
      for (const r of await index.records("receivables", await listOf(index, "receivablesByOrder", id))) {
        if (r && !r.parentId) {
          await addEventsOf(r.events);
          await addDocument(r.invoiceHash, "invoice");
        }
      }
    }

    // Chain order, numbered e1, e2, ... in that order (references renamed to match).
    events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    const renamed = new Map(events.map((e, i) => [e.id, `e${i + 1}`]));
    const rename = (eid: string) => renamed.get(eid) ?? eid;
    for (const e of events) e.id = rename(e.id);
    for (const s of signatures) s.recordedIn = rename(s.recordedIn);
    for (const p of participants) p.admittedIn = rename(p.admittedIn);
    for (const d of documents) for (const a of d.anchors) a.event = rename(a.event);
    if (agreement) agreement.recordedIn = rename(agreement.recordedIn);
    // Independent time: the authority's tokens over the agreement digest and the batch roots.
    const stampSubjects = [
      ...(agreement ? [{ of: "agreement digest" as const, value: lower(agreement.digest) as Hex, event: agreement.recordedIn }] : []),
      ...documents.flatMap((d) =>
        d.anchors.flatMap((a) => (a.via === "batch" ? [{ of: "batch root" as const, value: lower(a.root) as Hex, event: a.event }] : [])),
      ),
    ].filter((x, i, all) => all.findIndex((y) => y.value === x.value) === i);
    const timestamps: BundleTimestamp[] = [];
    for (const subject of stampSubjects) {
      const record = deps.timestamps?.get(subject.value);
      if (record) timestamps.push({ ...subject, tsa: record.tsa, token: record.token });
    }
    const missing = stampSubjects.length - timestamps.length;
    const timestamping = deps.timestamps
      ? {
          authority: deps.timestamps.tsaUrl,
          note: `RFC 3161 tokens from ${deps.timestamps.tsaUrl} for ${timestamps.length} of ${stampSubjects.length} anchored values${missing ? ` (${missing} not stamped yet)` : ""}.`,
        }
      : {
          authority: null,
          note: "No time-stamping authority is configured for this service: the times in this bundle rest on the block producer's clock alone.",
        };
    const facts: BundleFacts = {
      format: BUNDLE_FORMAT,
      kind,
      id: agreement ? agreement.loanId : kind === "document" ? lower(id) : id,
      chain: { chainId: deployment.chainId, genesisHash: deployment.genesisHash },
      contracts: Object.fromEntries(Object.entries(deployment.contracts).map(([k, v]) => [k, lower(v)])) as EvidenceBundle["contracts"],
      ...(agreement ? { agreement } : {}),
      events,
      signatures,
      documents,
      participants,
      timestamping,
      timestamps,
    };
    // The summary says only what the facts say, in the words the verifier recomputes and compares.
    const { problem, lines } = statementsOf(facts);
    if (problem) throw new NotFoundError(problem);
    const now = deps.now ?? Date.now;
    return { ...facts, generatedAt: new Date(now()).toISOString(), summary: lines.join(" ") };
  }

  return { buildBundle };
}
