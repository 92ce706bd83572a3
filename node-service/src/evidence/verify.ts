/**
 * Checks an evidence bundle against any JSON-RPC node, trusting nothing in the bundle and nothing of
 * the service: the chain id and genesis, every event against its transaction, receipt and block, every
 * EIP-712 signature (digest recomputed, signer recovered, ERC-1271 for contract wallets), the anchor
 * state re-read from the notary, Merkle proofs, and the sha256 of any files given. Then it asks what
 * the checked facts establish (./statements): a bundle whose facts do not establish its subject, or
 * whose summary says more or other than its facts, is NOT VERIFIED. The statements it prints as
 * confirmed are recomputed from the checked facts, never copied from the bundle.
 *
 * One module for the CLI (scripts/verify-evidence.ts), the court page and the standalone court
 * verifier: no Node.js imports; the ABIs are passed in.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash, standardNodeHash } from "@openzeppelin/merkle-tree/dist/hashes";
import {
  decodeEventLog,
  hashTypedData,
  recoverTypedDataAddress,
  sha256,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TypedDataDefinition,
} from "viem";
import type { ContractName } from "../chain/contract-names";
import { ROLE } from "../chain/eip712";
import { canonicalJson } from "../underwriting/canonical";
import { EvidenceBundleSchema, normalizeArgs, type BundleEvent, type BundleSignature, type EvidenceBundle } from "./bundle-format";
import { statementsOf } from "./statements";
import { displayNameCommitment, NAME_COMMITMENT_DOMAIN } from "../domain/name-commitment";
import { checkTimestampToken, parseCertificate, tokenFromBase64 } from "./rfc3161";

export interface Check {
  /** Stable name of what was checked, e.g. "event e2 LoanAgreements.AgreementRecorded: block". */
  name: string;
  ok: boolean;
  detail: string;
  /** The node could not be reached for this check: neither proved nor disproved. */
  unreachable?: boolean;
}

/** The deployment the consortium published (its deployment.json): the bundle is held to it. */
export interface PublishedDeployment {
  chainId?: number;
  genesisHash?: string;
  contracts: Partial<Record<ContractName, Address>>;
}

export interface VerifyInput {
  bundle: unknown;
  publicClient: PublicClient;
  /** The contracts' ABIs (from the compiled artifacts; the verifier runs in Node.js and in browsers). */
  abis: Record<ContractName, Abi>;
  /** Files to compare with the bundle's documents (name for the report, bytes). */
  files?: { name: string; bytes: Uint8Array }[];
  /** The published deployment to compare the bundle's chain and addresses with (optional). */
  published?: PublishedDeployment;
  /** Certificates (PEM or DER) of the time-stamping authorities the court trusts; none: a token's signer is reported but not trusted. */
  trustedTsaCertificates?: Uint8Array[];
  /** Largest difference accepted between a block's time and its RFC 3161 token's time (default 600 s). */
  timeToleranceSeconds?: number;
}

export const DEFAULT_TIME_TOLERANCE_SECONDS = 600;

/** verified: every check passed and the facts establish the subject; could-not-check: the node was unreachable. */
export type Outcome = "verified" | "not-verified" | "could-not-check";

export interface Verdict {
  outcome: Outcome;
  ok: boolean;
  checks: Check[];
  /** What the checked facts establish, one sentence each; empty unless verified. */
  confirmed: string[];
  /** The parties' names the bundle gives, each "verified" only when its opening matched the registry on chain. */
  names: PartyName[];
  bundle?: EvidenceBundle;
}

/** A participant's name as the verifier found it: verified against the on-chain commitment, or a claim that did not match. */
export interface PartyName {
  address: string;
  name: string;
  status: "verified" | "claim";
}

/** True when `err` (or its cause) says the node did not answer, as opposed to answering "no". */
export function isUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (["HttpRequestError", "TimeoutError", "WebSocketRequestError", "SocketClosedError"].includes(String(e.name))) return true;
  }
  return false;
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
  return field
    .split(".")
    .reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function outcomeOf(checks: Check[]): Outcome {
  if (checks.some((c) => !c.ok && !c.unreachable)) return "not-verified";
  if (checks.some((c) => c.unreachable)) return "could-not-check";
  return "verified";
}

/** Where two texts first differ, quoted from each side. */
function firstDifference(claimed: string, derived: string): string {
  let i = 0;
  while (i < claimed.length && i < derived.length && claimed[i] === derived[i]) i++;
  const from = Math.max(0, i - 40);
  const cut = (t: string) => `${from > 0 ? "…" : ""}${t.slice(from, i + 40)}${t.length > i + 40 ? "…" : ""}`;
  return `the summary says "${cut(claimed)}" where the checked facts give "${cut(derived)}"`;
}

export async function verifyBundle(input: VerifyInput): Promise<Verdict> {
  const checks: Check[] = [];
  const abiOf = (name: ContractName) => input.abis[name];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const attempt = async (name: string, fn: () => Promise<[boolean, string]>) => {
    try {
      const [ok, detail] = await fn();
      return add(name, ok, detail);
    } catch (err) {
      const message = (err as { shortMessage?: string }).shortMessage ?? (err as Error).message.split("\n")[0];
      if (isUnreachable(err)) {
        checks.push({ name, ok: false, unreachable: true, detail: `the node did not answer: ${message}` });
        return false;
      }
      return add(name, false, `the chain refused the question: ${message}`);
    }
  };
  const names: PartyName[] = [];
  const done = (bundle?: EvidenceBundle, confirmed: string[] = []): Verdict => {
    const outcome = outcomeOf(checks);
    return { outcome, ok: outcome === "verified", checks, confirmed: outcome === "verified" ? confirmed : [], names, bundle };
  };

  const parsed = EvidenceBundleSchema.safeParse(input.bundle);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    add("bundle: format", false, `this file is not an evidence bundle (${issue.path.join(".") || "the file"}: ${issue.message})`);
    return done();
  }
  const bundle = parsed.data as EvidenceBundle;
  add("bundle: format", true, `${bundle.format}, ${bundle.kind} ${bundle.id}, ${bundle.events.length} events`);
  const client = input.publicClient;
  const eventsById = new Map(bundle.events.map((e) => [e.id, e]));

  // The chain itself: same chain id and same genesis block as when the bundle was made. If the node
  // does not answer at all, stop here: nothing can be proved or disproved.
  await attempt("chain: id", async () => {
    const id = await client.getChainId();
    return [
      id === bundle.chain.chainId,
      id === bundle.chain.chainId
        ? `the node is chain ${id}, as the bundle says`
        : `the node is chain ${id}, but the bundle was made on chain ${bundle.chain.chainId}`,
    ];
  });
  if (checks.some((c) => c.unreachable)) return done(bundle);
  await attempt("chain: genesis block", async () => {
    const genesis = await client.getBlock({ blockNumber: 0n });
    const same = lower(genesis.hash) === lower(bundle.chain.genesisHash);
    return [
      same,
      same
        ? `genesis block ${genesis.hash}, as the bundle says`
        : `this is a different chain: the node's genesis block is\n        ${genesis.hash}\n      but the bundle's is\n        ${bundle.chain.genesisHash}`,
    ];
  });

  if (input.published) {
    const pub = input.published;
    if (pub.chainId !== undefined) {
      add(
        "published deployment: chain id",
        pub.chainId === bundle.chain.chainId,
        `the published deployment is on chain ${pub.chainId}, the bundle on chain ${bundle.chain.chainId}`,
      );
    }
    if (pub.genesisHash !== undefined) {
      add(
        "published deployment: genesis block",
        lower(pub.genesisHash) === lower(bundle.chain.genesisHash),
        `the published deployment's genesis block is ${pub.genesisHash}, the bundle's ${bundle.chain.genesisHash}`,
      );
    }
    for (const [name, expected] of Object.entries(pub.contracts)) {
      const actual = bundle.contracts[name as ContractName];
      add(
        `contracts: ${name} is the published address`,
        !!actual && lower(actual) === lower(expected),
        `bundle ${actual}, published ${expected}`,
      );
    }
  }
  // Every contract the bundle names answers to the same participant registry (no look-alike set).
  for (const name of ["LoanAgreements", "Receivables", "EvidenceNotary"] as const) {
    await attempt(`contracts: ${name} uses the bundle's participant registry`, async () => {
      const registry = (await client.readContract({
        address: bundle.contracts[name],
        abi: abiOf(name),
        functionName: "registry",
      })) as Address;
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
      if (lower(block.hash) !== lower(ev.blockHash))
        problems.push(`block ${ev.blockNumber} has hash ${short(block.hash)}, bundle says ${short(ev.blockHash)}`);
      if (Number(block.timestamp) !== ev.blockTime) problems.push(`block time ${block.timestamp}, bundle says ${ev.blockTime}`);
      if (new Date(ev.blockTime * 1000).toISOString() !== ev.blockTimeIso)
        problems.push(`ISO time ${ev.blockTimeIso} is not ${ev.blockTime}`);
      if (!block.transactions.map((t) => lower(t as string)).includes(lower(ev.txHash)))
        problems.push(`tx ${short(ev.txHash)} is not in block ${ev.blockNumber}`);
      return [
        problems.length === 0,
        problems.join("; ") || `block ${ev.blockNumber} ${short(block.hash)} at ${ev.blockTimeIso} contains tx ${short(ev.txHash)}`,
      ];
    });
    await attempt(`${label}: transaction`, async () => {
      const tx = await client.getTransaction({ hash: ev.txHash as Hex });
      const ok = tx.blockHash !== null && lower(tx.blockHash) === lower(ev.blockHash) && Number(tx.blockNumber) === ev.blockNumber;
      return [
        ok,
        ok
          ? `tx ${short(ev.txHash)} from ${tx.from} mined in block ${tx.blockNumber}`
          : `tx ${short(ev.txHash)} was mined in block ${tx.blockNumber} (${tx.blockHash ? short(tx.blockHash) : "pending"}), bundle says ${ev.blockNumber}`,
      ];
    });
    await attempt(`${label}: receipt`, async () => {
      const receipt = await client.getTransactionReceipt({ hash: ev.txHash as Hex });
      const problems: string[] = [];
      if (receipt.status !== "success") problems.push("transaction reverted");
      if (Number(receipt.blockNumber) !== ev.blockNumber)
        problems.push(`receipt is in block ${receipt.blockNumber}, bundle says ${ev.blockNumber}`);
      if (lower(receipt.blockHash) !== lower(ev.blockHash))
        problems.push(`receipt block hash ${short(receipt.blockHash)}, bundle says ${short(ev.blockHash)}`);
      const log = receipt.logs.find((l) => l.logIndex === ev.logIndex);
      if (!log) {
        problems.push(`no log ${ev.logIndex} in the receipt`);
      } else {
        if (lower(log.address) !== lower(ev.address) || lower(ev.address) !== lower(bundle.contracts[ev.contract])) {
          problems.push(
            `log emitted by ${log.address}, bundle says ${ev.contract} at ${ev.address} (contracts: ${bundle.contracts[ev.contract]})`,
          );
        } else {
          const decoded = decodeEventLog({ abi: abiOf(ev.contract), data: log.data, topics: log.topics });
          if (decoded.eventName !== ev.event) problems.push(`log is ${decoded.eventName}, bundle says ${ev.event}`);
          else if (canonicalJson(normalizeArgs(decoded.args)) !== canonicalJson(normalizeArgs(ev.args)))
            problems.push("the log's arguments differ from the bundle's");
        }
      }
      return [
        problems.length === 0,
        problems.join("; ") || `log ${ev.logIndex} of tx ${short(ev.txHash)} is ${ev.contract}.${ev.event} with the bundle's arguments`,
      ];
    });
  }

  // Signatures: recompute the digest, recover the signer, compare with what the chain recorded.
  for (const sig of bundle.signatures) {
    const label = `signature of the ${sig.role}`;
    if (!/^0x[0-9a-fA-F]{130,}$/.test(sig.signature)) {
      add(`${label}: present`, false, `the ${sig.role}'s signature is missing (the bundle gives "${sig.signature}")`);
      continue;
    }
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
        if (canonicalJson(normalizeArgs(a.terms)) !== canonicalJson(normalizeArgs(sig.typedData.message)))
          problems.push("terms on chain differ from the signed message");
        if (lower(String((a.terms as Record<string, unknown>)?.[sig.role])) !== lower(sig.signer))
          problems.push(`the ${sig.role} on chain is not ${sig.signer}`);
      } else if (recordedIn.event === "ReceivableAcknowledged") {
        if (lower(String(a.signature)) !== lower(sig.signature)) problems.push("signature on chain differs");
        if (lower(String(a.debtor)) !== lower(sig.signer)) problems.push(`the debtor on chain is ${String(a.debtor)}`);
      } else {
        problems.push(`event ${recordedIn.event} does not record signatures`);
      }
      return [
        problems.length === 0,
        problems.join("; ") || `${recordedIn.contract}.${recordedIn.event} in tx ${short(recordedIn.txHash)} carries this signature`,
      ];
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
      return [
        ok,
        `${sig.signer} admitted at ${onChain.admittedAt} with roles ${onChain.roles}${onChain.suspended ? " (suspended)" : ""} when it signed`,
      ];
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
      if (lower(loan.borrower) !== lower(ag.borrower) || lower(loan.lender) !== lower(ag.lender))
        problems.push(`loan parties on chain are ${loan.borrower} / ${loan.lender}`);
      if (!rec || String(rec.args.loanId) !== ag.loanId || lower(String(rec.args.digest)) !== lower(ag.digest))
        problems.push("the recording event is not this loan's");
      if (!terms || lower(String(terms.documentHash)) !== lower(ag.documentHash))
        problems.push("document hash differs from the signed terms");
      return [
        problems.length === 0,
        problems.join("; ") || `loan ${ag.loanId}: ${ag.borrower} borrows from ${ag.lender}, principal ${loan.principal}`,
      ];
    });
    for (const role of ["borrower", "lender"] as const) {
      const present = bundle.signatures.some(
        (s) => s.role === role && lower(s.signer) === lower(ag[role]) && s.recordedIn === ag.recordedIn,
      );
      add(
        `agreement ${ag.loanId}: ${role} signed`,
        present,
        present
          ? `the bundle carries the ${role}'s signature for ${ag[role]}`
          : `the ${role}'s signature is missing from the bundle: it does not show that ${ag[role]} signed`,
      );
    }
  }

  // Participants: admitted by the registry, as the bundled event says; a name only as the opening of the registry's commitment proves it.
  for (const p of bundle.participants) {
    const ev = eventsById.get(p.admittedIn);
    add(
      `participant ${p.address}: admission event`,
      !!ev && ev.event === "ParticipantAdmitted" && lower(String(ev.args.account)) === lower(p.address),
      ev ? `${ev.contract}.${ev.event} in block ${ev.blockNumber}` : `event ${p.admittedIn} missing`,
    );
    if (p.name !== undefined) {
      const name = p.name;
      await attempt(`participant ${p.address}: name`, async () => {
        const fail = (why: string): [boolean, string] => {
          names.push({ address: lower(p.address), name, status: "claim" });
          return [false, `claim, not matched: “${name}” ${why}`];
        };
        if (!p.nameSalt) return fail("comes without the salt that opens the registry's commitment");
        const digest = displayNameCommitment(p.nameSalt as Hex, name);
        const admitted = ev ? lower(String(ev.args.displayNameHash)) : "";
        let where = admitted === digest ? `the displayNameHash of its admission (block ${ev!.blockNumber})` : "";
        if (!where) {
          // The operator may have updated the name since admission (ParticipantKycUpdated): the registry's current commitment.
          const now = (await client.readContract({
            address: bundle.contracts.ParticipantRegistry,
            abi: abiOf("ParticipantRegistry"),
            functionName: "participant",
            args: [p.address as Address],
          })) as { displayNameHash: Hex };
          if (lower(now.displayNameHash) === digest) where = "the registry's current displayNameHash";
          else
            return fail(
              `with salt ${p.nameSalt} gives ${digest}, but the registry recorded displayNameHash ${admitted || "(no admission event)"} at admission and ${lower(now.displayNameHash)} now`,
            );
        }
        names.push({ address: lower(p.address), name, status: "verified" });
        return [true, `verified: sha256("${NAME_COMMITMENT_DOMAIN}" 0x00 salt “${name}”) = ${digest} is ${where}`];
      });
    }
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
          merkleSteps(doc.sha256, anchor.proof, anchor.root),
        );
        await attempt(`${label}: Merkle proof on chain`, async () => {
          const anchorer = String(ev?.args.anchorer ?? "0x0000000000000000000000000000000000000000") as Address;
          const ok = (await client.readContract({
            ...notary,
            functionName: "verifyInBatch",
            args: [anchor.root as Hex, anchorer, doc.sha256 as Hex, anchor.proof as Hex[]],
          })) as boolean;
          return [ok, `EvidenceNotary.verifyInBatch = ${ok}`];
        });
      }
    }
    if (doc.anchors.length === 0) add(`${label}: anchored`, false, "the bundle gives no anchor for this document");
  }

  // Files the court holds: each must be one of the bundle's documents, byte for byte.
  for (const file of input.files ?? []) {
    const digest = sha256(file.bytes);
    const doc = bundle.documents.find((d) => lower(d.sha256) === digest);
    add(`file ${file.name}: sha256`, !!doc, doc ? `${digest} is the ${doc.role}` : `${digest} is not a document of this bundle`);
  }

  // Independent time: each RFC 3161 token stamps the value its event recorded, is signed by a
  // time-stamping authority, and agrees with the block time within the tolerance.
  const timeLines: string[] = [];
  const tolerance = input.timeToleranceSeconds ?? DEFAULT_TIME_TOLERANCE_SECONDS;
  let trusted: ReturnType<typeof parseCertificate>[] = [];
  try {
    trusted = (input.trustedTsaCertificates ?? []).map(parseCertificate);
  } catch (err) {
    add("timestamps: trusted authority certificate", false, `a certificate given as trusted cannot be read: ${(err as Error).message}`);
  }
  for (const t of bundle.timestamps ?? []) {
    const label = `timestamp of the ${t.of} ${short(t.value)}`;
    const ev = eventsById.get(t.event);
    const recorded =
      ev &&
      (t.of === "agreement digest"
        ? ev.event === "AgreementRecorded" && lower(String(ev.args.digest)) === lower(t.value)
        : ev.event === "BatchAnchored" && lower(String(ev.args.root)) === lower(t.value));
    add(
      `${label}: recorded on chain`,
      !!recorded,
      recorded ? `${ev!.contract}.${ev!.event} in block ${ev!.blockNumber} carries it` : `event ${t.event} does not record ${t.value}`,
    );
    let token: Uint8Array;
    try {
      token = tokenFromBase64(t.token);
    } catch {
      add(`${label}: RFC 3161 token`, false, "the token is not base64");
      continue;
    }
    const result = await checkTimestampToken(token, t.value as Hex, trusted);
    add(
      `${label}: RFC 3161 token`,
      result.ok,
      result.ok
        ? `${result.steps.join("; ")}${trusted.length ? "" : "; the authority's identity was NOT checked against a trusted certificate (none given)"}`
        : result.problems.join("; "),
    );
    if (!result.genTime || !ev) continue;
    const tokenTime = Math.floor(result.genTime.getTime() / 1000);
    const diff = tokenTime - ev.blockTime;
    const agrees = Math.abs(diff) <= tolerance;
    add(
      `${label}: block time agrees with the token`,
      agrees,
      `token time ${result.genTime.toISOString()}, block time ${ev.blockTimeIso}: ${Math.abs(diff)} s ${diff >= 0 ? "later" : "earlier"}${agrees ? `, within the ${tolerance} s tolerance` : `, more than the ${tolerance} s tolerance: the block's time is not borne out by the authority`}`,
    );
    if (result.ok && agrees) {
      timeLines.push(
        `The time-stamping authority ${result.tsa} (${result.chainChecked ? "certificate chained to the trusted authority given" : "identity not checked against a trusted authority"}) attests that the ${t.of} ${t.value} ` +
          `existed at ${result.genTime.toISOString()} (RFC 3161 token serial ${result.serial}), ${Math.abs(diff)} s ${diff >= 0 ? "after" : "before"} the block time ${ev.blockTimeIso}.`,
      );
    }
  }
  if (!(bundle.timestamps ?? []).length)
    timeLines.push("This bundle carries no RFC 3161 timestamp: every time above is the block producer's clock alone.");

  // What the facts establish: the subject must be among them, and the summary must say only that.
  const { problem, lines } = statementsOf(bundle);
  add(`subject: ${bundle.kind} ${bundle.id}`, problem === null, problem ?? `the bundle's facts establish ${bundle.kind} ${bundle.id}`);
  if (problem === null) {
    const derived = lines.join(" ");
    add(
      "summary: says only what the checked facts say",
      bundle.summary === derived,
      bundle.summary === derived
        ? "the bundle's summary is word for word the statements recomputed from its facts"
        : firstDifference(bundle.summary, derived),
    );
  }
  return done(bundle, [...lines, ...timeLines]);
}

/** The Merkle path step by step (OpenZeppelin's standard tree: double-keccak leaf, sorted pairs). */
function merkleSteps(leafValue: string, proof: string[], root: string): string {
  let node = standardLeafHash(["bytes32"], [leafValue]);
  const steps = [`leaf hash ${short(node)}`];
  proof.forEach((p, i) => {
    node = standardNodeHash(node, p);
    steps.push(`step ${i + 1} of ${proof.length} with ${short(p)} gives ${short(node)}`);
  });
  if (lower(node) === lower(root)) return `${steps.join("; ")}: the anchored root`;
  return `${steps.join("; ")}; the last step should give the anchored root ${root} but gives ${node}: the proof does not lead from this document to this root`;
}

/** The verdict as text: one line per check, then the outcome in plain words and what it proves. */
export function formatVerdict(verdict: Verdict): string {
  const mark = (c: Check) => (c.ok ? "PASS" : c.unreachable ? "NOT CHECKED" : "FAIL");
  const lines = verdict.checks.map((c) => `${mark(c)}  ${c.name} — ${c.detail}`);
  const failed = verdict.checks.filter((c) => !c.ok && !c.unreachable);
  if (verdict.names.length) {
    lines.push(
      "",
      "Parties by name:",
      ...verdict.names.map(
        (n) =>
          `  - “${n.name}” ${n.address}: ${n.status === "verified" ? "verified (opens the registry's on-chain commitment)" : "claim, not matched (the registry's commitment does not bear it out)"}`,
      ),
    );
  }
  lines.push("");
  if (verdict.outcome === "verified") {
    const claims = (verdict.bundle?.documents ?? []).flatMap((d) =>
      (d.uploads ?? []).map((u) => `  - document ${d.sha256} (${d.role}): uploaded as ${u.kind} by ${u.by} at ${u.at}`),
    );
    lines.push(
      `VERDICT: VERIFIED (all ${verdict.checks.length} checks passed)`,
      "",
      "What the checks above prove (each sentence recomputed from the chain records just checked, not copied from the bundle):",
      ...verdict.confirmed.map((l) => `  - ${l}`),
      ...(claims.length
        ? ["", "What the service's own records say (claims; no chain shows them, nothing above depends on them):", ...claims]
        : []),
    );
  } else if (verdict.outcome === "not-verified") {
    lines.push(
      `VERDICT: NOT VERIFIED (${failed.length} of ${verdict.checks.length} checks failed)`,
      "",
      "Do not rely on this bundle: it is altered, incomplete, or claims what the chain does not show. What failed:",
      ...failed.map((c) => `  - ${c.name}: ${c.detail}`),
    );
  } else {
    lines.push(
      "VERDICT: COULD NOT CHECK",
      "",
      "The blockchain node did not answer, so nothing was proved or disproved. Try again later or with another node (--rpc URL).",
    );
  }
  return lines.join("\n");
}
