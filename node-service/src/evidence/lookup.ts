/**
 * Evidence lookup: what the chain says about a document hash, an agreement, an order, a receivable or
 * a transaction. The index says where to look; every fact is then re-read from the chain (receipt,
 * log, block, contract state) and any disagreement with the index is reported, not hidden.
 */
import type { NameOpening } from "../domain/name-commitment";
import {
  parseEventLogs,
  recoverTypedDataAddress,
  toEventSelector,
  toHex,
  type AbiEvent,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
  type TypedDataDefinition,
  zeroHash,
} from "viem";
import { abiOf, type Deployment } from "../chain/contracts";
import { acknowledgmentTypedData, loanTermsFromJson, loanTermsTypedData, ROLE, roleNames, type LoanTerms } from "../chain/eip712";
import { compareIds, LOAN_STATUSES, ORDER_STATUSES, RECEIVABLE_STATUSES, type EventRef, type ReceivableEntity } from "../domain/entities";
import { listOf, recordOf, type IndexReader } from "../store/index-reader";
import { toJsonSafe } from "../domain/json";
import { NotFoundError } from "../domain/errors";
import type { DocumentStore } from "../documents/store";
import { createChainReader, isoOf, type ChainEvent, type ChainReader } from "./chain-events";
import type { Timestamps } from "./timestamper";

/** Blocks one getLogs request of the anchoring scan covers (Besu's default --rpc-max-logs-range is 5000). */
export const NOTARY_SCAN_RANGE = 5000;
/** The longest chain (blocks since the deployment) scanned for a hash the index does not have. */
export const NOTARY_SCAN_MAX_BLOCKS = 100_000;
/** How a lookup says it did not check the chain beyond its bound. */
export const NOT_INDEXED = "not indexed";
const notaryEvent = (name: string) => abiOf("EvidenceNotary").find((i) => i.type === "event" && i.name === name) as AbiEvent;
const ANCHORED_EVENT = notaryEvent("Anchored");
const BATCH_ANCHORED_EVENT = notaryEvent("BatchAnchored");

export interface EvidenceDeps {
  publicClient: PublicClient;
  deployment: Deployment;
  /**
   * Keyed reads of the index (in memory on an indexing process, the committed index on a reader): where
   * to look on chain. Called per lookup, since an indexing process replaces its index on a rebuild.
   */
  index: () => IndexReader;
  /** The document store, for batch proofs (optional: without it only single anchors are found). */
  documents?: DocumentStore;
  /** RFC 3161 tokens for batch roots and agreement digests (optional: without it bundles say no authority is configured). */
  timestamps?: Timestamps;
  /** The longest chain scanned for a hash the index lacks (default NOTARY_SCAN_MAX_BLOCKS). */
  notaryScanMaxBlocks?: number;
  /** Display names the operator published with their openings (address lowercase -> opening); a bundle carries one only when it opens the registry's displayNameHash. */
  participantNames?: () => Promise<Record<string, NameOpening>>;
}

export interface ParticipantView {
  address: Address;
  registered: boolean;
  roles: number;
  roleNames: string[];
  suspended: boolean;
  admittedAt?: number;
  admittedAtIso?: string;
  kycDossierHash?: Hex;
  admittedIn?: { txHash: Hex; blockNumber: number };
}

export interface Integrity {
  /** True when the index and the chain say the same thing. */
  agreesWithIndex: boolean;
  differences: string[];
}

export interface AnchorView {
  via: "notary" | "batch" | "record";
  contract: { name: string; address: Address };
  kind: number | null;
  kindName: string;
  /** What the anchor belongs to: the notary's ref, or the record carrying the hash. */
  reference: { ref?: Hex; type?: "order" | "receivable" | "loan"; id?: string; field?: string };
  blockNumber: number;
  blockHash: Hex;
  blockTime: number;
  blockTimeIso: string;
  txHash: Hex;
  logIndex: number;
  anchorer: Address;
  participant: ParticipantView;
  batch?: { root: Hex; proof: Hex[]; count: number; provenOnChain: boolean };
  event: ChainEvent;
  integrity: Integrity;
}

export interface HashLookup {
  sha256: Hex;
  anchored: boolean;
  anchors: AnchorView[];
  integrity: Integrity;
  summary: string;
}

/** Where a record carries a document hash in its own event. */
export interface HashUse {
  type: "order" | "receivable" | "loan";
  id: string;
  role: string;
  event: string;
  field: string;
  ref?: EventRef;
}

/** Each record field that carries a document's hash: what the document is to the record, and the event that set the field. */
const DOCUMENT_FIELDS = {
  purchaseOrder: { type: "order", role: "purchase order", event: "OrderCreated", field: "documentHash" },
  shippingDocument: { type: "order", role: "shipping document", event: "OrderShipped", field: "shippingDocumentHash" },
  invoice: { type: "receivable", role: "invoice", event: "ReceivableIssued", field: "invoiceHash" },
  loanAgreement: { type: "loan", role: "loan agreement", event: "AgreementRecorded", field: "terms.documentHash" },
} as const;

/** The use of a document hash by the record `id` (its `events`) through `field`. */
export function hashUse(field: keyof typeof DOCUMENT_FIELDS, id: string, events: EventRef[]): HashUse {
  const f = DOCUMENT_FIELDS[field];
  return { type: f.type, id, role: f.role, event: f.event, field: f.field, ref: events.find((e) => e.event === f.event) };
}

function kindName(kind: number | null): string {
  if (kind === null) return "record field";
  if (kind === 256) return "document batch";
  return `kind ${kind}`;
}

/** The signed loan terms carried by an AgreementRecorded event. */
export function termsOf(ev: ChainEvent): LoanTerms {
  return loanTermsFromJson(ev.args.terms as Record<string, unknown>);
}

/** The typed data the debtor signed to acknowledge receivable `receivableId`, rebuilt from its ReceivableIssued event. */
export function acknowledgmentOfIssued(deployment: Deployment, receivableId: string, issued: ChainEvent) {
  return acknowledgmentTypedData(deployment.chainId, deployment.contracts.Receivables, {
    receivableId: BigInt(receivableId),
    orderId: BigInt(issued.args.orderId as string),
    invoiceHash: issued.args.invoiceHash as Hex,
    faceValue: BigInt(issued.args.faceValue as string),
    maturity: BigInt(issued.args.maturity as string),
  });
}

/** The receivable `r` was split from, through every split: the one the debtor acknowledged (a child inherits it). */
export async function rootOf(index: IndexReader, r: ReceivableEntity): Promise<ReceivableEntity> {
  let root = r;
  for (let parent; root.parentId && (parent = await recordOf(index, "receivables", root.parentId));) root = parent;
  return root;
}

export function createEvidenceService(deps: EvidenceDeps) {
  const { publicClient, deployment } = deps;
  const chain: ChainReader = createChainReader(publicClient, deployment);
  const notary = { address: deployment.contracts.EvidenceNotary, abi: abiOf("EvidenceNotary") } as const;
  const scanMaxBlocks = deps.notaryScanMaxBlocks ?? NOTARY_SCAN_MAX_BLOCKS;
  const registry = { address: deployment.contracts.ParticipantRegistry, abi: abiOf("ParticipantRegistry") } as const;
  const lower = (a: string) => a.toLowerCase();

  /**
   * The records carrying `sha256` as a document hash, by the index's document lists (keyed reads: no
   * walk over the index), orders first, then receivables, then loans, each by id; a listed record is
   * checked to carry the hash still (an order shipped twice keeps the last shipping document).
   */
  async function hashUses(sha256: Hex): Promise<HashUse[]> {
    const index = deps.index();
    const key = lower(sha256) as Hex;
    if (key === zeroHash) return [];
    const carries = (hash: Hex | undefined) => hash !== undefined && lower(hash) === key;
    const ids = (...lists: (readonly string[])[]) => [...new Set(lists.flat())].sort(compareIds);
    const [byDocument, byShipping, byInvoice, byAgreement] = await Promise.all([
      listOf(index, "ordersByDocument", key),
      listOf(index, "ordersByShippingDocument", key),
      listOf(index, "receivablesByInvoice", key),
      listOf(index, "loansByDocument", key),
    ]);
    const uses: HashUse[] = [];
    for (const o of await index.records("orders", ids(byDocument, byShipping))) {
      if (o && carries(o.documentHash)) uses.push(hashUse("purchaseOrder", o.id, o.events));
      if (o && carries(o.shippingDocumentHash)) uses.push(hashUse("shippingDocument", o.id, o.events));
    }
    for (const r of await index.records("receivables", ids(byInvoice)))
      if (r && !r.parentId && carries(r.invoiceHash)) uses.push(hashUse("invoice", r.id, r.events));
    for (const l of await index.records("loans", ids(byAgreement)))
      if (l && carries(l.documentHash)) uses.push(hashUse("loanAgreement", l.id, l.events));
    return uses;
  }

  async function participant(address: Address): Promise<ParticipantView> {
    const p = (await publicClient.readContract({ ...registry, functionName: "participant", args: [address] })) as {
      roles: number;
      suspended: boolean;
      admittedAt: number;
      kycDossierHash: Hex;
    };
    const indexed = await recordOf(deps.index(), "participants", lower(address));
    const admittedAt = Number(p.admittedAt);
    return {
      address: lower(address) as Address,
      registered: admittedAt !== 0,
      roles: Number(p.roles),
      roleNames: roleNames(Number(p.roles)),
      suspended: p.suspended,
      ...(admittedAt ? { admittedAt, admittedAtIso: isoOf(admittedAt), kycDossierHash: p.kycDossierHash } : {}),
      ...(indexed ? { admittedIn: { txHash: indexed.admitted.txHash, blockNumber: indexed.admitted.blockNumber } } : {}),
    };
  }

  /** An event the index points at, re-read from its receipt; differences noted in `diffs`. */
  async function reread(ref: EventRef, diffs: string[]): Promise<ChainEvent | null> {
    const ev = await chain.eventAt(ref.txHash, ref.logIndex);
    if (!ev) {
      diffs.push(`index has ${ref.event} at log ${ref.logIndex} of tx ${ref.txHash}, the chain has no such log`);
      return null;
    }
    if (ev.event !== ref.event) diffs.push(`index says ${ref.event}, chain log is ${ev.event} (tx ${ref.txHash})`);
    if (lower(ev.blockHash) !== lower(ref.blockHash))
      diffs.push(`index block hash ${ref.blockHash} differs from the chain's ${ev.blockHash} (reorg?)`);
    if (ev.blockNumber !== ref.blockNumber) diffs.push(`index block ${ref.blockNumber}, chain block ${ev.blockNumber}`);
    return ev;
  }

  async function rereadAll(refs: EventRef[], diffs: string[]): Promise<ChainEvent[]> {
    const out: ChainEvent[] = [];
    for (const ref of refs) {
      const ev = await reread(ref, diffs);
      if (ev) out.push(ev);
    }
    return out;
  }

  function anchorView(ev: ChainEvent, via: AnchorView["via"], p: ParticipantView, extra: Partial<AnchorView>, diffs: string[]): AnchorView {
    return {
      via,
      contract: { name: ev.contract, address: ev.address },
      kind: via === "record" ? null : Number(ev.args.kind),
      kindName: via === "record" ? "record field" : kindName(Number(ev.args.kind)),
      reference: via === "record" ? {} : { ref: ev.args.ref as Hex },
      blockNumber: ev.blockNumber,
      blockHash: ev.blockHash,
      blockTime: ev.blockTime,
      blockTimeIso: ev.blockTimeIso,
      txHash: ev.txHash,
      logIndex: ev.logIndex,
      anchorer: p.address,
      participant: p,
      event: ev,
      integrity: { agreesWithIndex: diffs.length === 0, differences: diffs },
      ...extra,
    };
  }

  /**
   * The anchorer of the first anchoring log of `hash` on chain (Anchored first, else BatchAnchored), for
   * a hash the index does not have: scanned from the deployment block (the notary's is at or after it),
   * in ranges of NOTARY_SCAN_RANGE blocks. A chain longer than NOTARY_SCAN_MAX_BLOCKS since then is not
   * scanned: the lookup says "not indexed" (a problem naming the bound) instead of reading it all.
   */
  async function scanAnchoring(hash: Hex, problems: string[]): Promise<{ anchorer: Address; isRoot: boolean } | null> {
    const latest = Number(await publicClient.getBlockNumber());
    const from = deployment.startBlock;
    const span = latest - from + 1;
    if (span > scanMaxBlocks) {
      problems.push(
        `${NOT_INDEXED}: the index has no anchor of ${hash}, and the ${span} blocks since the deployment (block ${from}) are more than the ${scanMaxBlocks} a lookup scans on chain; whether it was anchored is not checked here (ask again once the index has caught up)`,
      );
      return null;
    }
    let batch: { anchorer: Address; isRoot: boolean } | null = null;
    for (let start = from; start <= latest; start += NOTARY_SCAN_RANGE) {
      // One request per range for both events, filtered by the hash (topic 1 of both) on the node.
      const raw = (await publicClient.request({
        method: "eth_getLogs",
        params: [
          {
            address: notary.address,
            topics: [[toEventSelector(ANCHORED_EVENT), toEventSelector(BATCH_ANCHORED_EVENT)], hash],
            fromBlock: toHex(start),
            toBlock: toHex(Math.min(latest, start + NOTARY_SCAN_RANGE - 1)),
          },
        ],
      } as never)) as Log[];
      for (const log of parseEventLogs({ abi: [ANCHORED_EVENT, BATCH_ANCHORED_EVENT], logs: raw, strict: false })) {
        const anchorer = (log.args as { anchorer?: Address }).anchorer;
        if (!anchorer) continue;
        if (log.eventName === "Anchored") return { anchorer, isRoot: false };
        batch ??= { anchorer, isRoot: true };
      }
    }
    return batch;
  }

  /**
   * The notary's single anchor of `hash`, from the chain (state + log), compared with the index.
   * Null when the chain has none; a disagreement with no anchor to attach it to goes to `problems`.
   */
  async function notaryAnchor(hash: Hex, problems: string[] = []): Promise<AnchorView | null> {
    const diffs: string[] = [];
    const indexed = await recordOf(deps.index(), "anchors", lower(hash));
    // The notary keys records by anchorer (single documents and batch roots apart): take the anchorer
    // from the index, or from the first anchoring log on chain when the index does not have it.
    let anchorer: Address | undefined = indexed?.anchorer;
    let isRoot = indexed?.batchCount !== undefined;
    if (!indexed) {
      const found = await scanAnchoring(hash, problems);
      anchorer = found?.anchorer;
      isRoot = found?.isRoot ?? false;
    }
    if (!anchorer) return null;
    const state = (await publicClient.readContract({
      ...notary,
      functionName: isRoot ? "getBatch" : "getAnchor",
      args: [hash, anchorer],
    })) as {
      anchorer: Address;
      timestamp: number;
      blockNumber: number;
      kind: number;
    };
    if (Number(state.timestamp) === 0) {
      if (indexed) problems.push(`index says ${hash} was anchored in block ${indexed.blockNumber}; the notary has no anchor for it`);
      return null;
    }
    let ev: ChainEvent | null = null;
    if (indexed) ev = await reread(indexed.anchored, diffs);
    if (!ev) {
      // Not (correctly) indexed: find the log in the block the notary recorded.
      const logs = await publicClient.getContractEvents({
        ...notary,
        eventName: isRoot ? "BatchAnchored" : "Anchored",
        args: isRoot ? { root: hash } : { documentHash: hash },
        fromBlock: BigInt(state.blockNumber),
        toBlock: BigInt(state.blockNumber),
      });
      if (logs[0]) ev = await chain.eventAt(logs[0].transactionHash, logs[0].logIndex);
      if (!indexed) diffs.push(`the notary anchored ${hash} in block ${state.blockNumber}; the index does not have it yet`);
    }
    if (!ev) {
      problems.push(`the notary anchored ${hash} in block ${state.blockNumber} but no anchoring log was found there`);
      return null;
    }
    if (Number(ev.args.at) !== Number(state.timestamp) || lower(String(ev.args.anchorer)) !== lower(state.anchorer)) {
      diffs.push("the anchoring event differs from the notary's stored anchor");
    }
    if (
      indexed &&
      (indexed.at !== Number(state.timestamp) ||
        lower(indexed.anchorer) !== lower(state.anchorer) ||
        indexed.blockNumber !== Number(state.blockNumber))
    ) {
      diffs.push("the index's anchor (time, anchorer or block) differs from the notary's state");
    }
    return anchorView(
      ev,
      isRoot ? "batch" : "notary",
      await participant(state.anchorer),
      isRoot ? { batch: { root: hash, proof: [], count: Number(ev.args.count), provenOnChain: true } } : {},
      diffs,
    );
  }

  /** The document's batch anchor (proof from the store), re-read and proven on chain. */
  async function batchAnchor(sha256: Hex, problems: string[] = []): Promise<AnchorView | null> {
    const batch = deps.documents?.get(sha256)?.batch;
    if (!batch) return null;
    const diffs: string[] = [];
    const ev = await chain.eventAt(batch.txHash, batch.logIndex);
    if (!ev || ev.event !== "BatchAnchored" || lower(String(ev.args.root)) !== lower(batch.root)) {
      problems.push(`the store says batch ${batch.root} was anchored in tx ${batch.txHash}; the chain does not show it`);
      return null;
    }
    if (lower(ev.blockHash) !== lower(batch.blockHash))
      diffs.push(`stored block hash ${batch.blockHash} differs from the chain's ${ev.blockHash}`);
    const proven = (await publicClient.readContract({
      ...notary,
      functionName: "verifyInBatch",
      args: [batch.root, String(ev.args.anchorer) as Address, sha256, batch.proof],
    })) as boolean;
    if (!proven) diffs.push("the stored Merkle proof does not verify on chain");
    const root = await recordOf(deps.index(), "anchors", lower(batch.root));
    if (!root) diffs.push(`the index does not have batch root ${batch.root} yet`);
    return anchorView(
      ev,
      "batch",
      await participant(String(ev.args.anchorer) as Address),
      { batch: { root: batch.root, proof: batch.proof, count: batch.count, provenOnChain: proven } },
      diffs,
    );
  }

  async function recordAnchors(sha256: Hex): Promise<AnchorView[]> {
    const out: AnchorView[] = [];
    for (const use of await hashUses(sha256)) {
      if (!use.ref) continue;
      const diffs: string[] = [];
      const ev = await reread(use.ref, diffs);
      if (!ev) continue;
      const carried = use.field.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], ev.args);
      if (lower(String(carried)) !== lower(sha256)) diffs.push(`the chain's ${ev.event}.${use.field} is ${String(carried)}, not ${sha256}`);
      const tx = await publicClient.getTransaction({ hash: ev.txHash });
      const view = anchorView(ev, "record", await participant(tx.from), {}, diffs);
      view.reference = { type: use.type, id: use.id, field: use.field };
      view.kindName = use.role;
      out.push(view);
    }
    return out;
  }

  function merge(list: Integrity[]): Integrity {
    const differences = list.flatMap((i) => i.differences);
    return { agreesWithIndex: differences.length === 0, differences };
  }

  async function lookupHash(sha256: Hex): Promise<HashLookup> {
    const hash = lower(sha256) as Hex;
    const problems: string[] = [];
    const found = [await notaryAnchor(hash, problems), await batchAnchor(hash, problems), ...(await recordAnchors(hash))];
    const anchors = found.filter((a): a is AnchorView => !!a);
    const integrity = merge([{ agreesWithIndex: problems.length === 0, differences: problems }, ...anchors.map((a) => a.integrity)]);
    if (anchors.length === 0) {
      const summary = problems.some((p) => p.startsWith(NOT_INDEXED))
        ? `The hash ${hash} is not in the index, and the chain is longer than a lookup scans (${scanMaxBlocks} blocks): not indexed, so this answer does not say whether it was anchored.`
        : `The hash ${hash} was never anchored on this chain.`;
      return { sha256: hash, anchored: false, anchors: [], integrity, summary };
    }
    const first = [...anchors].sort((a, b) => a.blockNumber - b.blockNumber)[0];
    return {
      sha256: hash,
      anchored: true,
      anchors,
      integrity,
      summary:
        `The document with sha256 ${hash} was first anchored at block ${first.blockNumber} (${first.blockTimeIso}) ` +
        `by ${first.anchorer}${first.participant.registered ? ` (registered ${first.participant.roleNames.join("+")})` : " (not a registered participant)"}` +
        `, ${anchors.length} anchor${anchors.length > 1 ? "s" : ""} in all.`,
    };
  }

  interface SignerCheck {
    role: "borrower" | "lender" | "debtor";
    expected: Address;
    signature: Hex;
    recovered: Address | null;
    method: "ecdsa" | "erc1271" | "transaction" | "none";
    valid: boolean;
    participant: ParticipantView;
    matchesRegistered: boolean;
  }

  async function checkSigner(
    role: SignerCheck["role"],
    expected: Address,
    signature: Hex,
    typed: TypedDataDefinition,
    blockNumber: number,
    neededRole: number,
  ): Promise<SignerCheck> {
    const recovered = await recoverTypedDataAddress({ ...typed, signature }).catch(() => null);
    let method: SignerCheck["method"] = "ecdsa";
    let valid = !!recovered && lower(recovered) === lower(expected);
    if (!valid) {
      method = "erc1271";
      valid = await publicClient
        .verifyTypedData({ ...typed, address: expected, signature, blockNumber: BigInt(blockNumber) })
        .catch(() => false);
    }
    const p = await participant(expected);
    return {
      role,
      expected: lower(expected) as Address,
      signature,
      recovered: recovered ? (lower(recovered) as Address) : null,
      method,
      valid,
      participant: p,
      matchesRegistered: valid && p.registered && (p.roles & neededRole) === neededRole,
    };
  }

  async function lookupAgreement(idOrDigest: string) {
    const index = deps.index();
    const id = /^0x[0-9a-fA-F]{64}$/.test(idOrDigest) ? await recordOf(index, "loanByDigest", lower(idOrDigest)) : idOrDigest;
    const loan = id ? await recordOf(index, "loans", id) : undefined;
    if (!loan) throw new NotFoundError(`no agreement ${idOrDigest} is indexed`);
    const diffs: string[] = [];
    const recordedRef = loan.events.find((e) => e.event === "AgreementRecorded");
    const recorded = recordedRef ? await reread(recordedRef, diffs) : null;
    if (!recorded) throw new NotFoundError(`the recording of agreement ${loan.id} is not on this chain`);
    const terms = termsOf(recorded);
    const typedData = loanTermsTypedData(deployment.chainId, deployment.contracts.LoanAgreements, terms);
    const borrowerSig = recorded.args.borrowerSignature as Hex;
    const lenderSig = recorded.args.lenderSignature as Hex;
    const signers = {
      borrower: await checkSigner(
        "borrower",
        terms.borrower,
        borrowerSig,
        typedData as unknown as TypedDataDefinition,
        recorded.blockNumber,
        ROLE.SUPPLIER,
      ),
      lender: await checkSigner(
        "lender",
        terms.lender,
        lenderSig,
        typedData as unknown as TypedDataDefinition,
        recorded.blockNumber,
        ROLE.LENDER,
      ),
    };
    const onChain = (await publicClient.readContract({
      address: deployment.contracts.LoanAgreements,
      abi: abiOf("LoanAgreements"),
      functionName: "getLoan",
      args: [BigInt(loan.id)],
    })) as { status: number; repaid: bigint; totalDue: bigint };
    const chainStatus = LOAN_STATUSES[Number(onChain.status)];
    if (chainStatus !== loan.status) diffs.push(`index status ${loan.status}, chain status ${chainStatus}`);
    if (onChain.repaid !== loan.repaid) diffs.push(`index repaid ${loan.repaid}, chain repaid ${onChain.repaid}`);
    if (lower(String(recorded.args.digest)) !== lower(loan.digest)) diffs.push("index digest differs from the recorded one");
    if (lower(loan.borrowerSignature) !== lower(borrowerSig) || lower(loan.lenderSignature) !== lower(lenderSig))
      diffs.push("index signatures differ from the recorded ones");
    const history = await rereadAll(
      loan.events.filter((e) => e !== recordedRef),
      diffs,
    );
    const document = await lookupHash(terms.documentHash);
    return {
      loanId: loan.id,
      digest: recorded.args.digest as Hex,
      status: chainStatus,
      typedData: toJsonSafe(typedData),
      signatures: { borrower: borrowerSig, lender: lenderSig },
      signers,
      signedByRegisteredParties: signers.borrower.matchesRegistered && signers.lender.matchesRegistered,
      documentSha256: terms.documentHash,
      document,
      recorded: { ...recorded, submitter: recorded.args.submitter as Address },
      history: history.map((e) => ({
        event: e.event,
        at: e.blockTime,
        atIso: e.blockTimeIso,
        args: e.args,
        txHash: e.txHash,
        blockNumber: e.blockNumber,
        blockHash: e.blockHash,
      })),
      repaid: onChain.repaid,
      totalDue: onChain.totalDue,
      integrity: merge([{ agreesWithIndex: diffs.length === 0, differences: diffs }, document.integrity]),
    };
  }

  async function lookupOrder(id: string) {
    const index = deps.index();
    const order = await recordOf(index, "orders", id);
    if (!order) throw new NotFoundError(`no order ${id} is indexed`);
    const diffs: string[] = [];
    const events = await rereadAll(order.events, diffs);
    const onChain = (await publicClient.readContract({
      address: deployment.contracts.TradeOrders,
      abi: abiOf("TradeOrders"),
      functionName: "getOrder",
      args: [BigInt(id)],
    })) as { status: number };
    const chainStatus = ORDER_STATUSES[Number(onChain.status)];
    if (chainStatus !== order.status) diffs.push(`index status ${order.status}, chain status ${chainStatus}`);
    const documents = [];
    for (const [role, hash] of [
      ["purchase order", order.documentHash],
      ["shipping document", order.shippingDocumentHash],
    ] as const) {
      if (hash && hash !== zeroHash) documents.push({ role, sha256: hash, lookup: await lookupHash(hash) });
    }
    const receivables = (await index.records("receivables", await listOf(index, "receivablesByOrder", id)))
      .filter((r) => r !== undefined)
      .map((r) => ({ id: r.id, faceValue: r.faceValue, paid: r.paid, status: r.status, holder: r.holder }));
    return {
      orderId: id,
      buyer: await participant(order.buyer),
      supplier: await participant(order.supplier),
      amount: order.amount,
      status: chainStatus,
      events,
      documents,
      receivables,
      integrity: merge([{ agreesWithIndex: diffs.length === 0, differences: diffs }, ...documents.map((d) => d.lookup.integrity)]),
    };
  }

  async function lookupReceivable(id: string) {
    const index = deps.index();
    const r = await recordOf(index, "receivables", id);
    if (!r) throw new NotFoundError(`no receivable ${id} is indexed`);
    const diffs: string[] = [];
    const events = await rereadAll(r.events, diffs);
    const onChain = (await publicClient.readContract({
      address: deployment.contracts.Receivables,
      abi: abiOf("Receivables"),
      functionName: "getReceivable",
      args: [BigInt(id)],
    })) as { status: number; paid: bigint };
    const chainStatus = RECEIVABLE_STATUSES[Number(onChain.status)];
    if (chainStatus !== r.status) diffs.push(`index status ${r.status}, chain status ${chainStatus}`);
    if (onChain.paid !== r.paid) diffs.push(`index paid ${r.paid}, chain paid ${onChain.paid}`);
    // The debtor acknowledged the original receivable (a child inherits it).
    const root = await rootOf(index, r);
    const rootEvents = root === r ? events : await rereadAll(root.events, diffs);
    const issued = rootEvents.find((e) => e.event === "ReceivableIssued");
    const ackEv = rootEvents.find((e) => e.event === "ReceivableAcknowledged");
    let acknowledgment = null;
    if (ackEv && issued) {
      const signature = ackEv.args.signature as Hex;
      if (signature && signature !== "0x") {
        const typed = acknowledgmentOfIssued(deployment, root.id, issued);
        const check = await checkSigner("debtor", root.debtor, signature, typed as unknown as TypedDataDefinition, ackEv.blockNumber, 0);
        acknowledgment = { by: "signature", event: ackEv, typedData: toJsonSafe(typed), ...check };
      } else {
        const tx = await publicClient.getTransaction({ hash: ackEv.txHash });
        const p = await participant(root.debtor);
        const valid = lower(tx.from) === lower(root.debtor);
        acknowledgment = {
          by: "transaction",
          event: ackEv,
          expected: root.debtor,
          sender: lower(tx.from),
          valid,
          participant: p,
          matchesRegistered: valid && p.registered,
        };
      }
    }
    const order = await recordOf(index, "orders", r.orderId);
    return {
      receivableId: id,
      status: chainStatus,
      issuer: await participant(r.issuer),
      debtor: await participant(r.debtor),
      holder: r.holder,
      faceValue: r.faceValue,
      paid: onChain.paid,
      maturity: r.maturity,
      maturityIso: isoOf(r.maturity),
      ...(r.parentId ? { parentId: r.parentId, rootId: root.id } : {}),
      order: order
        ? {
            id: order.id,
            buyer: order.buyer,
            supplier: order.supplier,
            amount: order.amount,
            status: order.status,
            documentHash: order.documentHash,
            createdAt: order.createdAt,
          }
        : null,
      issued: issued ?? null,
      acknowledgment,
      pledges: events.filter((e) => e.event === "ReceivablePledged"),
      payments: events.filter((e) => e.event === "ReceivablePaid"),
      events,
      invoice: await lookupHash(root.invoiceHash),
      integrity: { agreesWithIndex: diffs.length === 0, differences: diffs },
    };
  }

  async function lookupTx(txHash: Hex) {
    const receipt = await chain.receipt(txHash);
    const indexed = await listOf(deps.index(), "eventsByTx", lower(txHash));
    if (!receipt) {
      if (indexed.length) {
        return {
          txHash,
          found: false,
          integrity: {
            agreesWithIndex: false,
            differences: [`the index has ${indexed.length} events of ${txHash}, the chain has no such transaction`],
          },
        };
      }
      throw new NotFoundError(`no transaction ${txHash} on this chain`);
    }
    const events = await chain.eventsOfTx(txHash);
    const diffs: string[] = [];
    const chainKeys = new Set(events.map((e) => `${e.logIndex}:${e.event}`));
    const indexKeys = new Set(indexed.map((e) => `${e.logIndex}:${e.event}`));
    for (const k of chainKeys)
      if (!indexKeys.has(k) && !k.endsWith(":Transfer") && !k.endsWith(":Approval")) diffs.push(`chain log ${k} is not in the index`);
    for (const k of indexKeys) if (!chainKeys.has(k)) diffs.push(`index event ${k} is not in the chain's receipt`);
    const tx = await publicClient.getTransaction({ hash: txHash });
    const block = await chain.blockTime(Number(receipt.blockNumber));
    const batches = events
      .filter((e) => e.event === "BatchAnchored")
      .map((e) => ({ root: e.args.root as Hex, count: Number(e.args.count) }));
    return {
      txHash: receipt.transactionHash,
      found: true,
      status: receipt.status,
      from: lower(tx.from) as Address,
      sender: await participant(tx.from),
      to: receipt.to,
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
      blockTime: block.timestamp,
      blockTimeIso: isoOf(block.timestamp),
      gasUsed: receipt.gasUsed,
      events,
      batches,
      integrity: { agreesWithIndex: diffs.length === 0, differences: diffs },
    };
  }

  return { chain, participant, hashUses, lookupHash, lookupAgreement, lookupOrder, lookupReceivable, lookupTx, notaryAnchor, batchAnchor };
}

export type EvidenceService = ReturnType<typeof createEvidenceService>;
