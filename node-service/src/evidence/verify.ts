/**
 * Checks an evidence bundle against any JSON-RPC node, trusting nothing in the bundle and nothing of
 * the service: the chain id and genesis, every event against its transaction, receipt and block, every
 * EIP-712 signature (digest recomputed, signer recovered, ERC-1271 for contract wallets), the anchor
 * state re-read from the notary, Merkle proofs, and the sha256 of any files given. Used by
 * scripts/verify-evidence.ts and reusable by the web UI.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import {
  decodeEventLog,
  hashTypedData,
  recoverTypedDataAddress,
  type Address,
  type Hex,
  type PublicClient,
  type TypedDataDefinition,
} from "viem";
import { abiOf, type ContractName } from "../chain/contracts";
import { ROLE } from "../chain/eip712";
import { canonicalJson, normalizeArgs } from "./chain-events";
import { EvidenceBundleSchema, type BundleEvent, type BundleSignature, type EvidenceBundle } from "./bundle-format";
import { sha256Hex } from "../domain/hash";

export interface Check {
  /** Stable name of what was checked, e.g. "event e2 LoanAgreements.AgreementRecorded: block". */
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyInput {
  bundle: unknown;
  publicClient: PublicClient;
  /** Files to compare with the bundle's documents (name for the report, bytes). */
  files?: { name: string; bytes: Uint8Array }[];
  /** Published contract addresses to compare with the bundle's (optional). */
  expectedContracts?: Partial<Record<ContractName, Address>>;
}

export interface Verdict {
  ok: boolean;
  checks: Check[];
  bundle?: EvidenceBundle;
}

const lower = (a: string) => a.toLowerCase();
const short = (h: string) => `${h.slice(0, 10)}…`;

/** Turns the JSON typed data (uint values as decimal strings) back into viem's bigint form. */
export function reviveTypedData(td: BundleSignature["typedData"]): TypedDataDefinition {
  const revive = (type: string, value: unknown): unknown => {
    if (type.endsWith("[]")) return (value as unknown[]).map((v) => revive(type.slice(0, -2), v));
    if (/^u?int\d*$/.test(type)) return BigInt(value as string);
    const struct = td.types[type];
    if (struct) return Object.fromEntries(struct.map((f) => [f.name, revive(f.type, (value as Record<string, unknown>)[f.name])]));
    return value;
  };
  return {
    domain: { ...td.domain, verifyingContract: td.domain.verifyingContract as Address },
    types: td.types,
    primaryType: td.primaryType,
    message: revive(td.primaryType, td.message) as Record<string, unknown>,
  } as unknown as TypedDataDefinition;
}

function getPath(obj: unknown, field: string): unknown {
  return field.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

export async function verifyBundle(input: VerifyInput): Promise<Verdict> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const attempt = async (name: string, fn: () => Promise<[boolean, string]>) => {
    try {
      const [ok, detail] = await fn();
      return add(name, ok, detail);
    } catch (err) {
      return add(name, false, `could not check: ${(err as Error).message.split("\n")[0]}`);
    }
  };

  const parsed = EvidenceBundleSchema.safeParse(input.bundle);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    add("bundle: format", false, `not an evidence bundle: ${issue.path.join(".")}: ${issue.message}`);
    return { ok: false, checks };
  }
  const bundle = parsed.data as EvidenceBundle;
  add("bundle: format", true, `${bundle.format}, ${bundle.kind} ${bundle.id}, ${bundle.events.length} events`);
  const client = input.publicClient;
  const eventsById = new Map(bundle.events.map((e) => [e.id, e]));

  // The chain itself: same chain id and same genesis block as when the bundle was made.
  await attempt("chain: id", async () => {
    const id = await client.getChainId();
    return [id === bundle.chain.chainId, `node chain id ${id}, bundle ${bundle.chain.chainId}`];
  });
  await attempt("chain: genesis block", async () => {
    const genesis = await client.getBlock({ blockNumber: 0n });
    return [lower(genesis.hash) === lower(bundle.chain.genesisHash), `node genesis ${short(genesis.hash)}, bundle ${short(bundle.chain.genesisHash)}`];
  });

  if (input.expectedContracts) {
    for (const [name, expected] of Object.entries(input.expectedContracts)) {
      const actual = bundle.contracts[name as ContractName];
      add(`contracts: ${name} is the published address`, !!actual && lower(actual) === lower(expected), `bundle ${actual}, published ${expected}`);
    }
  }
  // Every contract the bundle names answers to the same participant registry (no look-alike set).
  for (const name of ["LoanAgreements", "Receivables", "EvidenceNotary"] as const) {
    await attempt(`contracts: ${name} uses the bundle's participant registry`, async () => {
      const registry = (await client.readContract({ address: bundle.contracts[name], abi: abiOf(name), functionName: "registry" })) as Address;
      return [lower(registry) === lower(bundle.contracts.ParticipantRegistry), `${name}.registry() = ${registry}`];
    });
  }

  // Events: each log is in its receipt, each receipt in its block, block numbers, hashes and times match.
  for (const ev of bundle.events) await verifyEvent(ev);

  async function verifyEvent(ev: BundleEvent): Promise<void> {
    const label = `event ${ev.id} ${ev.contract}.${ev.event}`;
    await attempt(`${label}: block`, async () => {
      const block = await client.getBlock({ blockNumber: BigInt(ev.blockNumber) });
      const problems: string[] = [];
      if (lower(block.hash) !== lower(ev.blockHash)) problems.push(`block ${ev.blockNumber} has hash ${short(block.hash)}, bundle says ${short(ev.blockHash)}`);
      if (Number(block.timestamp) !== ev.blockTime) problems.push(`block time ${block.timestamp}, bundle says ${ev.blockTime}`);
      if (new Date(ev.blockTime * 1000).toISOString() !== ev.blockTimeIso) problems.push(`ISO time ${ev.blockTimeIso} is not ${ev.blockTime}`);
      if (!block.transactions.map((t) => lower(t as string)).includes(lower(ev.txHash))) problems.push(`tx ${short(ev.txHash)} is not in block ${ev.blockNumber}`);
      return [problems.length === 0, problems.join("; ") || `block ${ev.blockNumber} ${short(block.hash)} at ${ev.blockTimeIso} contains tx ${short(ev.txHash)}`];
    });
    await attempt(`${label}: transaction`, async () => {
      const tx = await client.getTransaction({ hash: ev.txHash as Hex });
      const ok = tx.blockHash !== null && lower(tx.blockHash) === lower(ev.blockHash) && Number(tx.blockNumber) === ev.blockNumber;
      return [ok, ok ? `tx ${short(ev.txHash)} from ${tx.from} mined in block ${tx.blockNumber}` : `tx ${short(ev.txHash)} was mined in block ${tx.blockNumber} (${tx.blockHash ? short(tx.blockHash) : "pending"}), bundle says ${ev.blockNumber}`];
    });
    await attempt(`${label}: receipt`, async () => {
      const receipt = await client.getTransactionReceipt({ hash: ev.txHash as Hex });
      const problems: string[] = [];
      if (receipt.status !== "success") problems.push("transaction reverted");
      if (Number(receipt.blockNumber) !== ev.blockNumber) problems.push(`receipt is in block ${receipt.blockNumber}, bundle says ${ev.blockNumber}`);
      if (lower(receipt.blockHash) !== lower(ev.blockHash)) problems.push(`receipt block hash ${short(receipt.blockHash)}, bundle says ${short(ev.blockHash)}`);
      const log = receipt.logs.find((l) => l.logIndex === ev.logIndex);
      if (!log) {
        problems.push(`no log ${ev.logIndex} in the receipt`);
      } else {
        if (lower(log.address) !== lower(ev.address) || lower(ev.address) !== lower(bundle.contracts[ev.contract])) {
          problems.push(`log emitted by ${log.address}, bundle says ${ev.contract} at ${ev.address} (contracts: ${bundle.contracts[ev.contract]})`);
        } else {
          const decoded = decodeEventLog({ abi: abiOf(ev.contract), data: log.data, topics: log.topics });
          if (decoded.eventName !== ev.event) problems.push(`log is ${decoded.eventName}, bundle says ${ev.event}`);
          else if (canonicalJson(normalizeArgs(decoded.args)) !== canonicalJson(normalizeArgs(ev.args))) problems.push("the log's arguments differ from the bundle's");
        }
      }
      return [problems.length === 0, problems.join("; ") || `log ${ev.logIndex} of tx ${short(ev.txHash)} is ${ev.contract}.${ev.event} with the bundle's arguments`];
    });
  }

  // Signatures: recompute the digest, recover the signer, compare with what the chain recorded.
  for (const sig of bundle.signatures) {
    const label = `signature of the ${sig.role}`;
    const expectedContract = sig.role === "debtor" ? bundle.contracts.Receivables : bundle.contracts.LoanAgreements;
    add(
      `${label}: typed-data domain`,
      sig.typedData.domain.chainId === bundle.chain.chainId && lower(sig.typedData.domain.verifyingContract) === lower(expectedContract),
      `domain chain ${sig.typedData.domain.chainId}, contract ${sig.typedData.domain.verifyingContract}; expected chain ${bundle.chain.chainId}, contract ${expectedContract}`,
    );
    let typed: TypedDataDefinition | undefined;
    await attempt(`${label}: EIP-712 digest`, async () => {
      typed = reviveTypedData(sig.typedData);
      const digest = hashTypedData(typed);
      return [lower(digest) === lower(sig.digest), `recomputed ${short(digest)}, bundle says ${short(sig.digest)}`];
    });
    const recordedIn = eventsById.get(sig.recordedIn);
    await attempt(`${label}: signer`, async () => {
      if (!typed) return [false, "typed data unusable"];
      const recovered = await recoverTypedDataAddress({ ...typed, signature: sig.signature as Hex }).catch(() => undefined);
      if (recovered && lower(recovered) === lower(sig.signer)) return [true, `recovered ${recovered} (ECDSA)`];
      // A contract wallet signs by ERC-1271: ask the wallet, as of the block that recorded it.
      const valid = await client.verifyTypedData({
        ...typed,
        address: sig.signer as Address,
        signature: sig.signature as Hex,
        ...(recordedIn ? { blockNumber: BigInt(recordedIn.blockNumber) } : {}),
      } as Parameters<PublicClient["verifyTypedData"]>[0]);
      if (valid) return [true, `${sig.signer} accepts the signature (ERC-1271)`];
      return [false, `signature recovers ${recovered ?? "nothing"}, not ${sig.signer}, and ${sig.signer} does not accept it by ERC-1271`];
    });
    await attempt(`${label}: recorded on chain`, async () => {
      if (!recordedIn) return [false, `event ${sig.recordedIn} is not in the bundle`];
      const a = recordedIn.args;
      const problems: string[] = [];
      if (recordedIn.event === "AgreementRecorded") {
        const field = sig.role === "borrower" ? "borrowerSignature" : "lenderSignature";
        if (lower(String(a[field])) !== lower(sig.signature)) problems.push(`${field} on chain differs`);
        if (lower(String(a.digest)) !== lower(sig.digest)) problems.push("digest on chain differs");
        if (canonicalJson(normalizeArgs(a.terms)) !== canonicalJson(normalizeArgs(sig.typedData.message))) problems.push("terms on chain differ from the signed message");
        if (lower(String((a.terms as Record<string, unknown>)?.[sig.role])) !== lower(sig.signer)) problems.push(`the ${sig.role} on chain is not ${sig.signer}`);
      } else if (recordedIn.event === "ReceivableAcknowledged") {
        if (lower(String(a.signature)) !== lower(sig.signature)) problems.push("signature on chain differs");
        if (lower(String(a.debtor)) !== lower(sig.signer)) problems.push(`the debtor on chain is ${String(a.debtor)}`);
      } else {
        problems.push(`event ${recordedIn.event} does not record signatures`);
      }
      return [problems.length === 0, problems.join("; ") || `${recordedIn.contract}.${recordedIn.event} in tx ${short(recordedIn.txHash)} carries this signature`];
    });
    const neededRole = sig.role === "borrower" ? ROLE.SUPPLIER : sig.role === "lender" ? ROLE.LENDER : 0;
    await attempt(`${label}: registered participant`, async () => {
      const p = bundle.participants.find((x) => lower(x.address) === lower(sig.signer));
      if (!p) return [false, `${sig.signer} is not among the bundle's participants`];
      const onChain = (await client.readContract({
        address: bundle.contracts.ParticipantRegistry,
        abi: abiOf("ParticipantRegistry"),
        functionName: "participant",
        args: [sig.signer as Address],
        ...(recordedIn ? { blockNumber: BigInt(recordedIn.blockNumber) } : {}),
      })) as { roles: number; admittedAt: number; suspended: boolean };
      const ok = Number(onChain.admittedAt) !== 0 && (Number(onChain.roles) & neededRole) === neededRole;
      return [ok, `${sig.signer} admitted at ${onChain.admittedAt} with roles ${onChain.roles}${onChain.suspended ? " (suspended)" : ""} when it signed`];
    });
  }

  if (bundle.agreement) {
    const ag = bundle.agreement;
    await attempt(`agreement ${ag.loanId}: loan on chain`, async () => {
      const loan = (await client.readContract({
        address: bundle.contracts.LoanAgreements,
        abi: abiOf("LoanAgreements"),
        functionName: "getLoan",
        args: [BigInt(ag.loanId)],
      })) as { borrower: Address; lender: Address; principal: bigint };
      const rec = eventsById.get(ag.recordedIn);
      const terms = rec?.args.terms as Record<string, unknown> | undefined;
      const problems: string[] = [];
      if (lower(loan.borrower) !== lower(ag.borrower) || lower(loan.lender) !== lower(ag.lender)) problems.push(`loan parties on chain are ${loan.borrower} / ${loan.lender}`);
      if (!rec || String(rec.args.loanId) !== ag.loanId || lower(String(rec.args.digest)) !== lower(ag.digest)) problems.push("the recording event is not this loan's");
      if (!terms || lower(String(terms.documentHash)) !== lower(ag.documentHash)) problems.push("document hash differs from the signed terms");
      return [problems.length === 0, problems.join("; ") || `loan ${ag.loanId}: ${ag.borrower} borrows from ${ag.lender}, principal ${loan.principal}`];
    });
    for (const role of ["borrower", "lender"] as const) {
      add(
        `agreement ${ag.loanId}: ${role} signed`,
        bundle.signatures.some((s) => s.role === role && lower(s.signer) === lower(ag[role]) && s.recordedIn === ag.recordedIn),
        `the bundle carries the ${role}'s signature for ${ag[role]}`,
      );
    }
  }

  // Participants: admitted by the registry, as the bundled event says.
  for (const p of bundle.participants) {
    const ev = eventsById.get(p.admittedIn);
    add(
      `participant ${p.address}: admission event`,
      !!ev && ev.event === "ParticipantAdmitted" && lower(String(ev.args.account)) === lower(p.address),
      ev ? `${ev.contract}.${ev.event} in block ${ev.blockNumber}` : `event ${p.admittedIn} missing`,
    );
  }

  // Documents: each anchor re-read from the notary or from the record's own event.
  const notary = { address: bundle.contracts.EvidenceNotary, abi: abiOf("EvidenceNotary") } as const;
  for (const doc of bundle.documents) {
    const label = `document ${short(doc.sha256)} (${doc.role})`;
    for (const anchor of doc.anchors) {
      const ev = eventsById.get(anchor.event);
      if (anchor.via === "record") {
        add(
          `${label}: carried in ${ev ? `${ev.contract}.${ev.event}` : anchor.event}`,
          !!ev && lower(String(getPath(ev.args, anchor.field))) === lower(doc.sha256),
          ev ? `${anchor.field} = ${String(getPath(ev.args, anchor.field))}` : `event ${anchor.event} missing`,
        );
        continue;
      }
      const anchoredHash = anchor.via === "notary" ? doc.sha256 : anchor.root;
      await attempt(`${label}: ${anchor.via === "notary" ? "notary anchor" : "batch anchor"}`, async () => {
        if (!ev) return [false, `event ${anchor.event} missing`];
        const expectedEvent = anchor.via === "notary" ? "Anchored" : "BatchAnchored";
        const evHash = anchor.via === "notary" ? ev.args.documentHash : ev.args.root;
        if (ev.contract !== "EvidenceNotary" || ev.event !== expectedEvent || lower(String(evHash)) !== lower(anchoredHash)) {
          return [false, `event ${ev.id} is ${ev.contract}.${ev.event}, not the ${expectedEvent} of ${short(anchoredHash)}`];
        }
        // The notary keys records by anchorer, single documents and batch roots apart.
        const state = (await client.readContract({
          ...notary,
          functionName: anchor.via === "notary" ? "getAnchor" : "getBatch",
          args: [anchoredHash as Hex, String(ev.args.anchorer) as Address],
        })) as {
          anchorer: Address;
          timestamp: number;
          blockNumber: number;
        };
        const ok =
          Number(state.timestamp) === Number(ev.args.at) &&
          Number(state.blockNumber) === ev.blockNumber &&
          lower(state.anchorer) === lower(String(ev.args.anchorer));
        return [ok, `notary state: anchored by ${state.anchorer} in block ${state.blockNumber} at ${state.timestamp}`];
      });
      if (anchor.via === "batch") {
        add(
          `${label}: Merkle proof`,
          StandardMerkleTree.verify(anchor.root, ["bytes32"], [doc.sha256], anchor.proof),
          `leaf ${short(doc.sha256)} with ${anchor.proof.length} proof hashes against root ${short(anchor.root)}`,
        );
        await attempt(`${label}: Merkle proof on chain`, async () => {
          const anchorer = String(ev?.args.anchorer ?? "0x0000000000000000000000000000000000000000") as Address;
          const ok = (await client.readContract({ ...notary, functionName: "verifyInBatch", args: [anchor.root as Hex, anchorer, doc.sha256 as Hex, anchor.proof as Hex[]] })) as boolean;
          return [ok, `EvidenceNotary.verifyInBatch = ${ok}`];
        });
      }
    }
    if (doc.anchors.length === 0) add(`${label}: anchored`, false, "the bundle gives no anchor for this document");
  }

  // Files the court holds: each must be one of the bundle's documents, byte for byte.
  for (const file of input.files ?? []) {
    const digest = sha256Hex(file.bytes);
    const doc = bundle.documents.find((d) => lower(d.sha256) === digest);
    add(`file ${file.name}: sha256`, !!doc, doc ? `${digest} is the ${doc.role}` : `${digest} is not a document of this bundle`);
  }

  return { ok: checks.length > 0 && checks.every((c) => c.ok), checks, bundle };
}

/** The verdict as text: one PASS/FAIL line per check, then the outcome. */
export function formatVerdict(verdict: Verdict): string {
  const lines = verdict.checks.map((c) => `${c.ok ? "PASS" : "FAIL"}  ${c.name} — ${c.detail}`);
  const failed = verdict.checks.filter((c) => !c.ok).length;
  lines.push("");
  if (verdict.ok && verdict.bundle) {
    lines.push(`VERDICT: VERIFIED (${verdict.checks.length} checks passed)`, "", "The bundle's own summary (what the checks above confirm):", verdict.bundle.summary);
  }
  else lines.push(`VERDICT: NOT VERIFIED (${failed} of ${verdict.checks.length} checks failed)`);
  return lines.join("\n");
}
