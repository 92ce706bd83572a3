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
import { STATEMENT_PROBLEM_CODES, statementsOf, type StatementText } from "./statements";
import { displayNameCommitment, NAME_COMMITMENT_DOMAIN } from "../domain/name-commitment";
import { checkTimestampToken, parseCertificate, TOKEN_TEXT_CODES, tokenFromBase64 } from "./rfc3161";

/**
 * Every code a verdict text can have. A reader in another language (the court page) writes each text
 * from its code and parameters; the English `name`/`detail` strings stay as they are for the CLI and API
 * clients. `check.*` name what was checked, the others are detail parts (joined with "; ") and lines.
 */
export const VERDICT_TEXT_CODES = [
  "check.bundle_format",
  "check.chain_id",
  "check.chain_genesis",
  "check.published_chain_id",
  "check.published_genesis",
  "check.published_contract",
  "check.contract_registry",
  "check.event_block",
  "check.event_transaction",
  "check.event_receipt",
  "check.signature_present",
  "check.signature_domain",
  "check.signature_digest",
  "check.signature_signer",
  "check.signature_recorded",
  "check.signature_registered",
  "check.agreement_loan",
  "check.agreement_signed",
  "check.participant_admission",
  "check.participant_name",
  "check.document_carried",
  "check.document_notary",
  "check.document_batch",
  "check.document_merkle",
  "check.document_merkle_chain",
  "check.document_anchored",
  "check.file_sha256",
  "check.tsa_certificate",
  "check.timestamp_recorded",
  "check.timestamp_token",
  "check.timestamp_time",
  "check.subject",
  "check.summary",
  "node_unreachable",
  "chain_refused",
  "not_a_bundle",
  "bundle_format_ok",
  "chain_id_ok",
  "chain_id_other",
  "genesis_ok",
  "genesis_other",
  "published_chain_id",
  "published_genesis",
  "published_contract",
  "contract_registry",
  "block_hash_differs",
  "block_time_differs",
  "iso_time_differs",
  "tx_not_in_block",
  "block_ok",
  "tx_ok",
  "tx_other_block",
  "tx_reverted",
  "receipt_other_block",
  "receipt_block_hash_differs",
  "log_missing",
  "log_other_emitter",
  "log_other_event",
  "log_args_differ",
  "receipt_ok",
  "signature_missing",
  "signature_domain",
  "digest_recomputed",
  "typed_data_unusable",
  "signer_recovered",
  "signer_erc1271",
  "signer_mismatch",
  "signer_unrecovered",
  "event_not_in_bundle",
  "signature_field_differs",
  "digest_differs",
  "terms_differ",
  "signer_not_party",
  "signature_differs",
  "debtor_differs",
  "event_no_signatures",
  "signature_recorded_ok",
  "signer_not_participant",
  "signer_admitted",
  "signer_admitted_suspended",
  "loan_parties_differ",
  "recording_event_other",
  "document_hash_differs",
  "loan_ok",
  "agreement_signed",
  "agreement_not_signed",
  "admission_event",
  "event_missing",
  "name_no_salt",
  "name_mismatch",
  "name_verified_admission",
  "name_verified_current",
  "record_field",
  "anchor_event_other",
  "notary_state",
  "merkle_leaf",
  "merkle_step",
  "merkle_leaf_root",
  "merkle_step_root",
  "merkle_root_mismatch",
  "merkle_on_chain",
  "document_no_anchor",
  "file_is_document",
  "file_not_document",
  "certificate_unreadable",
  "timestamp_recorded",
  "timestamp_not_recorded",
  "token_not_base64",
  "token_authority_unchecked",
  "token_time_within",
  "token_time_beyond",
  "subject_established",
  "summary_ok",
  "summary_differs",
  "time_attested",
  "time_none",
  ...TOKEN_TEXT_CODES,
  ...STATEMENT_PROBLEM_CODES,
] as const;
export type VerdictTextCode = (typeof VERDICT_TEXT_CODES)[number];

/** A text of the verdict as its code and string parameters (hashes, numbers, ISO times, English technical words as they are). */
export interface VerdictText {
  code: VerdictTextCode;
  params: Record<string, string>;
}

/** An English text with its code. */
interface Said {
  en: string;
  text: VerdictText;
}

function say(code: VerdictTextCode, params: Record<string, string | number | bigint | boolean>, en: string): Said {
  return { en, text: { code, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) } };
}

export interface Check {
  /** Stable name of what was checked, e.g. "event e2 LoanAgreements.AgreementRecorded: block". */
  name: string;
  ok: boolean;
  detail: string;
  /** The name as a code (see VERDICT_TEXT_CODES). */
  nameText: VerdictText;
  /** The detail as coded parts, in order; the English detail is their English joined with "; ". */
  detailText: VerdictText[];
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

/** A confirmed sentence as a code: a statement of the checked facts, or a line of the verdict itself. */
export type ConfirmedText = { statement: StatementText } | { verdict: VerdictText };

export interface Verdict {
  outcome: Outcome;
  ok: boolean;
  checks: Check[];
  /** What the checked facts establish, one sentence each; empty unless verified. */
  confirmed: string[];
  /**
   * Each confirmed sentence as a code, in the same order: a statement of the facts (./statements, written
   * with renderStatement) or a line of the verdict (the time lines, VERDICT_TEXT_CODES).
   */
  confirmedText: ConfirmedText[];
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
function firstDifference(claimed: string, derived: string): Said {
  let i = 0;
  while (i < claimed.length && i < derived.length && claimed[i] === derived[i]) i++;
  const from = Math.max(0, i - 40);
  const cut = (t: string) => `${from > 0 ? "…" : ""}${t.slice(from, i + 40)}${t.length > i + 40 ? "…" : ""}`;
  return say(
    "summary_differs",
    { claimed: cut(claimed), derived: cut(derived) },
    `the summary says "${cut(claimed)}" where the checked facts give "${cut(derived)}"`,
  );
}

type Detail = Said | Said[];
const parts = (d: Detail): Said[] => (Array.isArray(d) ? d : [d]);

export async function verifyBundle(input: VerifyInput): Promise<Verdict> {
  const checks: Check[] = [];
  const abiOf = (name: ContractName) => input.abis[name];
  const check = (name: Said, ok: boolean, detail: Detail, unreachable?: true): Check => {
    const ds = parts(detail);
    return {
      name: name.en,
      ok,
      detail: ds.map((d) => d.en).join("; "),
      nameText: name.text,
      detailText: ds.map((d) => d.text),
      ...(unreachable ? { unreachable } : {}),
    };
  };
  const add = (name: Said, ok: boolean, detail: Detail) => {
    checks.push(check(name, ok, detail));
    return ok;
  };
  const attempt = async (name: Said, fn: () => Promise<[boolean, Detail]>) => {
    try {
      const [ok, detail] = await fn();
      return add(name, ok, detail);
    } catch (err) {
      const message = (err as { shortMessage?: string }).shortMessage ?? (err as Error).message.split("\n")[0];
      if (isUnreachable(err)) {
        checks.push(check(name, false, say("node_unreachable", { message }, `the node did not answer: ${message}`), true));
        return false;
      }
      return add(name, false, say("chain_refused", { message }, `the chain refused the question: ${message}`));
    }
  };
  const names: PartyName[] = [];
  const done = (bundle?: EvidenceBundle, confirmed: { en: string; text: ConfirmedText }[] = []): Verdict => {
    const outcome = outcomeOf(checks);
    const shown = outcome === "verified" ? confirmed : [];
    return {
      outcome,
      ok: outcome === "verified",
      checks,
      confirmed: shown.map((l) => l.en),
      confirmedText: shown.map((l) => l.text),
      names,
      bundle,
    };
  };

  const parsed = EvidenceBundleSchema.safeParse(input.bundle);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join(".") || "the file";
    add(
      say("check.bundle_format", {}, "bundle: format"),
      false,
      say("not_a_bundle", { where, message: issue.message }, `this file is not an evidence bundle (${where}: ${issue.message})`),
    );
    return done();
  }
  const bundle = parsed.data as EvidenceBundle;
  add(
    say("check.bundle_format", {}, "bundle: format"),
    true,
    say(
      "bundle_format_ok",
      { format: bundle.format, kind: bundle.kind, id: bundle.id, events: bundle.events.length },
      `${bundle.format}, ${bundle.kind} ${bundle.id}, ${bundle.events.length} events`,
    ),
  );
  const client = input.publicClient;
  const eventsById = new Map(bundle.events.map((e) => [e.id, e]));

  // The chain itself: same chain id and same genesis block as when the bundle was made. If the node
  // does not answer at all, stop here: nothing can be proved or disproved.
  await attempt(say("check.chain_id", {}, "chain: id"), async () => {
    const id = await client.getChainId();
    const expected = bundle.chain.chainId;
    return [
      id === expected,
      id === expected
        ? say("chain_id_ok", { chainId: id }, `the node is chain ${id}, as the bundle says`)
        : say("chain_id_other", { chainId: id, expected }, `the node is chain ${id}, but the bundle was made on chain ${expected}`),
    ];
  });
  if (checks.some((c) => c.unreachable)) return done(bundle);
  await attempt(say("check.chain_genesis", {}, "chain: genesis block"), async () => {
    const genesis = await client.getBlock({ blockNumber: 0n });
    const same = lower(genesis.hash) === lower(bundle.chain.genesisHash);
    return [
      same,
      same
        ? say("genesis_ok", { hash: genesis.hash }, `genesis block ${genesis.hash}, as the bundle says`)
        : say(
            "genesis_other",
            { hash: genesis.hash, expected: bundle.chain.genesisHash },
            `this is a different chain: the node's genesis block is\n        ${genesis.hash}\n      but the bundle's is\n        ${bundle.chain.genesisHash}`,
          ),
    ];
  });

  if (input.published) {
    const pub = input.published;
    if (pub.chainId !== undefined) {
      add(
        say("check.published_chain_id", {}, "published deployment: chain id"),
        pub.chainId === bundle.chain.chainId,
        say(
          "published_chain_id",
          { published: pub.chainId, chainId: bundle.chain.chainId },
          `the published deployment is on chain ${pub.chainId}, the bundle on chain ${bundle.chain.chainId}`,
        ),
      );
    }
    if (pub.genesisHash !== undefined) {
      add(
        say("check.published_genesis", {}, "published deployment: genesis block"),
        lower(pub.genesisHash) === lower(bundle.chain.genesisHash),
        say(
          "published_genesis",
          { published: pub.genesisHash, hash: bundle.chain.genesisHash },
          `the published deployment's genesis block is ${pub.genesisHash}, the bundle's ${bundle.chain.genesisHash}`,
        ),
      );
    }
    for (const [name, expected] of Object.entries(pub.contracts)) {
      const actual = bundle.contracts[name as ContractName];
      add(
        say("check.published_contract", { contract: name }, `contracts: ${name} is the published address`),
        !!actual && lower(actual) === lower(expected),
        say("published_contract", { address: String(actual), published: expected }, `bundle ${actual}, published ${expected}`),
      );
    }
  }
  // Every contract the bundle names answers to the same participant registry (no look-alike set).
  for (const name of ["LoanAgreements", "Receivables", "EvidenceNotary"] as const) {
    await attempt(
      say("check.contract_registry", { contract: name }, `contracts: ${name} uses the bundle's participant registry`),
      async () => {
        const registry = (await client.readContract({
          address: bundle.contracts[name],
          abi: abiOf(name),
          functionName: "registry",
        })) as Address;
        return [
          lower(registry) === lower(bundle.contracts.ParticipantRegistry),
          say("contract_registry", { contract: name, registry }, `${name}.registry() = ${registry}`),
        ];
      },
    );
  }

  // Events: each log is in its receipt, each receipt in its block, block numbers, hashes and times match.
  for (const ev of bundle.events) await verifyEvent(ev);

  async function verifyEvent(ev: BundleEvent): Promise<void> {
    const label = `event ${ev.id} ${ev.contract}.${ev.event}`;
    const of = { id: ev.id, contract: ev.contract, event: ev.event };
    const block = ev.blockNumber;
    await attempt(say("check.event_block", of, `${label}: block`), async () => {
      const got = await client.getBlock({ blockNumber: BigInt(ev.blockNumber) });
      const problems: Said[] = [];
      if (lower(got.hash) !== lower(ev.blockHash))
        problems.push(
          say(
            "block_hash_differs",
            { block, hash: short(got.hash), expected: short(ev.blockHash) },
            `block ${ev.blockNumber} has hash ${short(got.hash)}, bundle says ${short(ev.blockHash)}`,
          ),
        );
      if (Number(got.timestamp) !== ev.blockTime)
        problems.push(
          say(
            "block_time_differs",
            { time: got.timestamp, expected: ev.blockTime },
            `block time ${got.timestamp}, bundle says ${ev.blockTime}`,
          ),
        );
      if (new Date(ev.blockTime * 1000).toISOString() !== ev.blockTimeIso)
        problems.push(
          say("iso_time_differs", { iso: ev.blockTimeIso, time: ev.blockTime }, `ISO time ${ev.blockTimeIso} is not ${ev.blockTime}`),
        );
      if (!got.transactions.map((t) => lower(t as string)).includes(lower(ev.txHash)))
        problems.push(say("tx_not_in_block", { tx: short(ev.txHash), block }, `tx ${short(ev.txHash)} is not in block ${ev.blockNumber}`));
      return [
        problems.length === 0,
        problems.length
          ? problems
          : say(
              "block_ok",
              { block, hash: short(got.hash), iso: ev.blockTimeIso, tx: short(ev.txHash) },
              `block ${ev.blockNumber} ${short(got.hash)} at ${ev.blockTimeIso} contains tx ${short(ev.txHash)}`,
            ),
      ];
    });
    await attempt(say("check.event_transaction", of, `${label}: transaction`), async () => {
      const tx = await client.getTransaction({ hash: ev.txHash as Hex });
      const ok = tx.blockHash !== null && lower(tx.blockHash) === lower(ev.blockHash) && Number(tx.blockNumber) === ev.blockNumber;
      const minedHash = tx.blockHash ? short(tx.blockHash) : "pending";
      return [
        ok,
        ok
          ? say(
              "tx_ok",
              { tx: short(ev.txHash), from: tx.from, block: String(tx.blockNumber) },
              `tx ${short(ev.txHash)} from ${tx.from} mined in block ${tx.blockNumber}`,
            )
          : say(
              "tx_other_block",
              { tx: short(ev.txHash), minedBlock: String(tx.blockNumber), minedHash, block },
              `tx ${short(ev.txHash)} was mined in block ${tx.blockNumber} (${minedHash}), bundle says ${ev.blockNumber}`,
            ),
      ];
    });
    await attempt(say("check.event_receipt", of, `${label}: receipt`), async () => {
      const receipt = await client.getTransactionReceipt({ hash: ev.txHash as Hex });
      const problems: Said[] = [];
      if (receipt.status !== "success") problems.push(say("tx_reverted", {}, "transaction reverted"));
      if (Number(receipt.blockNumber) !== ev.blockNumber)
        problems.push(
          say(
            "receipt_other_block",
            { receiptBlock: receipt.blockNumber, block },
            `receipt is in block ${receipt.blockNumber}, bundle says ${ev.blockNumber}`,
          ),
        );
      if (lower(receipt.blockHash) !== lower(ev.blockHash))
        problems.push(
          say(
            "receipt_block_hash_differs",
            { hash: short(receipt.blockHash), expected: short(ev.blockHash) },
            `receipt block hash ${short(receipt.blockHash)}, bundle says ${short(ev.blockHash)}`,
          ),
        );
      const log = receipt.logs.find((l) => l.logIndex === ev.logIndex);
      if (!log) {
        problems.push(say("log_missing", { logIndex: ev.logIndex }, `no log ${ev.logIndex} in the receipt`));
      } else {
        if (lower(log.address) !== lower(ev.address) || lower(ev.address) !== lower(bundle.contracts[ev.contract])) {
          problems.push(
            say(
              "log_other_emitter",
              { emitter: log.address, contract: ev.contract, address: ev.address, contractAddress: String(bundle.contracts[ev.contract]) },
              `log emitted by ${log.address}, bundle says ${ev.contract} at ${ev.address} (contracts: ${bundle.contracts[ev.contract]})`,
            ),
          );
        } else {
          const decoded = decodeEventLog({ abi: abiOf(ev.contract), data: log.data, topics: log.topics });
          if (decoded.eventName !== ev.event)
            problems.push(
              say(
                "log_other_event",
                { logEvent: String(decoded.eventName), event: ev.event },
                `log is ${decoded.eventName}, bundle says ${ev.event}`,
              ),
            );
          else if (canonicalJson(normalizeArgs(decoded.args)) !== canonicalJson(normalizeArgs(ev.args)))
            problems.push(say("log_args_differ", {}, "the log's arguments differ from the bundle's"));
        }
      }
      return [
        problems.length === 0,
        problems.length
          ? problems
          : say(
              "receipt_ok",
              { logIndex: ev.logIndex, tx: short(ev.txHash), contract: ev.contract, event: ev.event },
              `log ${ev.logIndex} of tx ${short(ev.txHash)} is ${ev.contract}.${ev.event} with the bundle's arguments`,
            ),
      ];
    });
  }

  // Signatures: recompute the digest, recover the signer, compare with what the chain recorded.
  for (const sig of bundle.signatures) {
    const label = `signature of the ${sig.role}`;
    const role = { role: sig.role };
    if (!/^0x[0-9a-fA-F]{130,}$/.test(sig.signature)) {
      add(
        say("check.signature_present", role, `${label}: present`),
        false,
        say(
          "signature_missing",
          { role: sig.role, signature: sig.signature },
          `the ${sig.role}'s signature is missing (the bundle gives "${sig.signature}")`,
        ),
      );
      continue;
    }
    const expectedContract = sig.role === "debtor" ? bundle.contracts.Receivables : bundle.contracts.LoanAgreements;
    add(
      say("check.signature_domain", role, `${label}: typed-data domain`),
      sig.typedData.domain.chainId === bundle.chain.chainId && lower(sig.typedData.domain.verifyingContract) === lower(expectedContract),
      say(
        "signature_domain",
        {
          chainId: sig.typedData.domain.chainId,
          contract: sig.typedData.domain.verifyingContract,
          expectedChainId: bundle.chain.chainId,
          expectedContract,
        },
        `domain chain ${sig.typedData.domain.chainId}, contract ${sig.typedData.domain.verifyingContract}; expected chain ${bundle.chain.chainId}, contract ${expectedContract}`,
      ),
    );
    let typed: TypedDataDefinition | undefined;
    await attempt(say("check.signature_digest", role, `${label}: EIP-712 digest`), async () => {
      typed = reviveTypedData(sig.typedData);
      const digest = hashTypedData(typed);
      return [
        lower(digest) === lower(sig.digest),
        say(
          "digest_recomputed",
          { digest: short(digest), expected: short(sig.digest) },
          `recomputed ${short(digest)}, bundle says ${short(sig.digest)}`,
        ),
      ];
    });
    const recordedIn = eventsById.get(sig.recordedIn);
    await attempt(say("check.signature_signer", role, `${label}: signer`), async () => {
      if (!typed) return [false, say("typed_data_unusable", {}, "typed data unusable")];
      const recovered = await recoverTypedDataAddress({ ...typed, signature: sig.signature as Hex }).catch(() => undefined);
      if (recovered && lower(recovered) === lower(sig.signer))
        return [true, say("signer_recovered", { address: recovered }, `recovered ${recovered} (ECDSA)`)];
      // A contract wallet signs by ERC-1271: ask the wallet, as of the block that recorded it.
      const valid = await client.verifyTypedData({
        ...typed,
        address: sig.signer as Address,
        signature: sig.signature as Hex,
        ...(recordedIn ? { blockNumber: BigInt(recordedIn.blockNumber) } : {}),
      } as Parameters<PublicClient["verifyTypedData"]>[0]);
      if (valid) return [true, say("signer_erc1271", { address: sig.signer }, `${sig.signer} accepts the signature (ERC-1271)`)];
      return [
        false,
        say(
          recovered ? "signer_mismatch" : "signer_unrecovered",
          { recovered: recovered ?? "", address: sig.signer },
          `signature recovers ${recovered ?? "nothing"}, not ${sig.signer}, and ${sig.signer} does not accept it by ERC-1271`,
        ),
      ];
    });
    await attempt(say("check.signature_recorded", role, `${label}: recorded on chain`), async () => {
      if (!recordedIn)
        return [false, say("event_not_in_bundle", { event: sig.recordedIn }, `event ${sig.recordedIn} is not in the bundle`)];
      const a = recordedIn.args;
      const problems: Said[] = [];
      if (recordedIn.event === "AgreementRecorded") {
        const field = sig.role === "borrower" ? "borrowerSignature" : "lenderSignature";
        if (lower(String(a[field])) !== lower(sig.signature))
          problems.push(say("signature_field_differs", { field }, `${field} on chain differs`));
        if (lower(String(a.digest)) !== lower(sig.digest)) problems.push(say("digest_differs", {}, "digest on chain differs"));
        if (canonicalJson(normalizeArgs(a.terms)) !== canonicalJson(normalizeArgs(sig.typedData.message)))
          problems.push(say("terms_differ", {}, "terms on chain differ from the signed message"));
        if (lower(String((a.terms as Record<string, unknown>)?.[sig.role])) !== lower(sig.signer))
          problems.push(say("signer_not_party", { role: sig.role, address: sig.signer }, `the ${sig.role} on chain is not ${sig.signer}`));
      } else if (recordedIn.event === "ReceivableAcknowledged") {
        if (lower(String(a.signature)) !== lower(sig.signature)) problems.push(say("signature_differs", {}, "signature on chain differs"));
        if (lower(String(a.debtor)) !== lower(sig.signer))
          problems.push(say("debtor_differs", { address: String(a.debtor) }, `the debtor on chain is ${String(a.debtor)}`));
      } else {
        problems.push(say("event_no_signatures", { event: recordedIn.event }, `event ${recordedIn.event} does not record signatures`));
      }
      return [
        problems.length === 0,
        problems.length
          ? problems
          : say(
              "signature_recorded_ok",
              { contract: recordedIn.contract, event: recordedIn.event, tx: short(recordedIn.txHash) },
              `${recordedIn.contract}.${recordedIn.event} in tx ${short(recordedIn.txHash)} carries this signature`,
            ),
      ];
    });
    const neededRole = sig.role === "borrower" ? ROLE.SUPPLIER : sig.role === "lender" ? ROLE.LENDER : 0;
    await attempt(say("check.signature_registered", role, `${label}: registered participant`), async () => {
      const p = bundle.participants.find((x) => lower(x.address) === lower(sig.signer));
      if (!p)
        return [false, say("signer_not_participant", { address: sig.signer }, `${sig.signer} is not among the bundle's participants`)];
      const onChain = (await client.readContract({
        address: bundle.contracts.ParticipantRegistry,
        abi: abiOf("ParticipantRegistry"),
        functionName: "participant",
        args: [sig.signer as Address],
        ...(recordedIn ? { blockNumber: BigInt(recordedIn.blockNumber) } : {}),
      })) as { roles: number; admittedAt: number; suspended: boolean };
      const ok = Number(onChain.admittedAt) !== 0 && (Number(onChain.roles) & neededRole) === neededRole;
      const params = { address: sig.signer, admittedAt: onChain.admittedAt, roles: onChain.roles };
      return [
        ok,
        say(
          onChain.suspended ? "signer_admitted_suspended" : "signer_admitted",
          params,
          `${sig.signer} admitted at ${onChain.admittedAt} with roles ${onChain.roles}${onChain.suspended ? " (suspended)" : ""} when it signed`,
        ),
      ];
    });
  }

  if (bundle.agreement) {
    const ag = bundle.agreement;
    await attempt(say("check.agreement_loan", { loanId: ag.loanId }, `agreement ${ag.loanId}: loan on chain`), async () => {
      const loan = (await client.readContract({
        address: bundle.contracts.LoanAgreements,
        abi: abiOf("LoanAgreements"),
        functionName: "getLoan",
        args: [BigInt(ag.loanId)],
      })) as { borrower: Address; lender: Address; principal: bigint };
      const rec = eventsById.get(ag.recordedIn);
      const terms = rec?.args.terms as Record<string, unknown> | undefined;
      const problems: Said[] = [];
      if (lower(loan.borrower) !== lower(ag.borrower) || lower(loan.lender) !== lower(ag.lender))
        problems.push(
          say(
            "loan_parties_differ",
            { borrower: loan.borrower, lender: loan.lender },
            `loan parties on chain are ${loan.borrower} / ${loan.lender}`,
          ),
        );
      if (!rec || String(rec.args.loanId) !== ag.loanId || lower(String(rec.args.digest)) !== lower(ag.digest))
        problems.push(say("recording_event_other", {}, "the recording event is not this loan's"));
      if (!terms || lower(String(terms.documentHash)) !== lower(ag.documentHash))
        problems.push(say("document_hash_differs", {}, "document hash differs from the signed terms"));
      return [
        problems.length === 0,
        problems.length
          ? problems
          : say(
              "loan_ok",
              { loanId: ag.loanId, borrower: ag.borrower, lender: ag.lender, principalAmount: loan.principal },
              `loan ${ag.loanId}: ${ag.borrower} borrows from ${ag.lender}, principal ${loan.principal}`,
            ),
      ];
    });
    for (const role of ["borrower", "lender"] as const) {
      const present = bundle.signatures.some(
        (s) => s.role === role && lower(s.signer) === lower(ag[role]) && s.recordedIn === ag.recordedIn,
      );
      add(
        say("check.agreement_signed", { loanId: ag.loanId, role }, `agreement ${ag.loanId}: ${role} signed`),
        present,
        present
          ? say("agreement_signed", { role, address: ag[role] }, `the bundle carries the ${role}'s signature for ${ag[role]}`)
          : say(
              "agreement_not_signed",
              { role, address: ag[role] },
              `the ${role}'s signature is missing from the bundle: it does not show that ${ag[role]} signed`,
            ),
      );
    }
  }

  // Participants: admitted by the registry, as the bundled event says; a name only as the opening of the registry's commitment proves it.
  for (const p of bundle.participants) {
    const ev = eventsById.get(p.admittedIn);
    add(
      say("check.participant_admission", { address: p.address }, `participant ${p.address}: admission event`),
      !!ev && ev.event === "ParticipantAdmitted" && lower(String(ev.args.account)) === lower(p.address),
      ev
        ? say(
            "admission_event",
            { contract: ev.contract, event: ev.event, block: ev.blockNumber },
            `${ev.contract}.${ev.event} in block ${ev.blockNumber}`,
          )
        : say("event_missing", { event: p.admittedIn }, `event ${p.admittedIn} missing`),
    );
    if (p.name !== undefined) {
      const name = p.name;
      await attempt(say("check.participant_name", { address: p.address }, `participant ${p.address}: name`), async () => {
        const fail = (why: Said): [boolean, Said] => {
          names.push({ address: lower(p.address), name, status: "claim" });
          return [
            false,
            { en: `claim, not matched: “${name}” ${why.en}`, text: { code: why.text.code, params: { ...why.text.params, name } } },
          ];
        };
        if (!p.nameSalt) return fail(say("name_no_salt", {}, "comes without the salt that opens the registry's commitment"));
        const digest = displayNameCommitment(p.nameSalt as Hex, name);
        const admitted = ev ? lower(String(ev.args.displayNameHash)) : "";
        const commitment = { domain: NAME_COMMITMENT_DOMAIN, name, digest };
        let where: Said | undefined =
          admitted === digest
            ? say(
                "name_verified_admission",
                { ...commitment, block: ev!.blockNumber },
                `the displayNameHash of its admission (block ${ev!.blockNumber})`,
              )
            : undefined;
        if (!where) {
          // The operator may have updated the name since admission (ParticipantKycUpdated): the registry's current commitment.
          const now = (await client.readContract({
            address: bundle.contracts.ParticipantRegistry,
            abi: abiOf("ParticipantRegistry"),
            functionName: "participant",
            args: [p.address as Address],
          })) as { displayNameHash: Hex };
          if (lower(now.displayNameHash) === digest)
            where = say("name_verified_current", commitment, "the registry's current displayNameHash");
          else
            return fail(
              say(
                "name_mismatch",
                { salt: p.nameSalt, digest, admitted: admitted || "—", current: lower(now.displayNameHash) },
                `with salt ${p.nameSalt} gives ${digest}, but the registry recorded displayNameHash ${admitted || "(no admission event)"} at admission and ${lower(now.displayNameHash)} now`,
              ),
            );
        }
        names.push({ address: lower(p.address), name, status: "verified" });
        return [
          true,
          { en: `verified: sha256("${NAME_COMMITMENT_DOMAIN}" 0x00 salt “${name}”) = ${digest} is ${where.en}`, text: where.text },
        ];
      });
    }
  }

  // Documents: each anchor re-read from the notary or from the record's own event.
  const notary = { address: bundle.contracts.EvidenceNotary, abi: abiOf("EvidenceNotary") } as const;
  for (const doc of bundle.documents) {
    const label = `document ${short(doc.sha256)} (${doc.role})`;
    const docParams = { sha256: short(doc.sha256), role: doc.role };
    for (const anchor of doc.anchors) {
      const ev = eventsById.get(anchor.event);
      const missing = say("event_missing", { event: anchor.event }, `event ${anchor.event} missing`);
      if (anchor.via === "record") {
        const where = ev ? `${ev.contract}.${ev.event}` : anchor.event;
        const value = ev ? String(getPath(ev.args, anchor.field)) : "";
        add(
          say("check.document_carried", { ...docParams, where }, `${label}: carried in ${where}`),
          !!ev && lower(value) === lower(doc.sha256),
          ev ? say("record_field", { field: anchor.field, value }, `${anchor.field} = ${value}`) : missing,
        );
        continue;
      }
      const anchoredHash = anchor.via === "notary" ? doc.sha256 : anchor.root;
      const anchorCheck =
        anchor.via === "notary"
          ? say("check.document_notary", docParams, `${label}: notary anchor`)
          : say("check.document_batch", docParams, `${label}: batch anchor`);
      await attempt(anchorCheck, async () => {
        if (!ev) return [false, missing];
        const expectedEvent = anchor.via === "notary" ? "Anchored" : "BatchAnchored";
        const evHash = anchor.via === "notary" ? ev.args.documentHash : ev.args.root;
        if (ev.contract !== "EvidenceNotary" || ev.event !== expectedEvent || lower(String(evHash)) !== lower(anchoredHash)) {
          return [
            false,
            say(
              "anchor_event_other",
              { id: ev.id, contract: ev.contract, event: ev.event, expected: expectedEvent, hash: short(anchoredHash) },
              `event ${ev.id} is ${ev.contract}.${ev.event}, not the ${expectedEvent} of ${short(anchoredHash)}`,
            ),
          ];
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
        return [
          ok,
          say(
            "notary_state",
            { anchorer: state.anchorer, block: state.blockNumber, time: state.timestamp },
            `notary state: anchored by ${state.anchorer} in block ${state.blockNumber} at ${state.timestamp}`,
          ),
        ];
      });
      if (anchor.via === "batch") {
        add(
          say("check.document_merkle", docParams, `${label}: Merkle proof`),
          StandardMerkleTree.verify(anchor.root, ["bytes32"], [doc.sha256], anchor.proof),
          merkleSteps(doc.sha256, anchor.proof, anchor.root),
        );
        await attempt(say("check.document_merkle_chain", docParams, `${label}: Merkle proof on chain`), async () => {
          const anchorer = String(ev?.args.anchorer ?? "0x0000000000000000000000000000000000000000") as Address;
          const ok = (await client.readContract({
            ...notary,
            functionName: "verifyInBatch",
            args: [anchor.root as Hex, anchorer, doc.sha256 as Hex, anchor.proof as Hex[]],
          })) as boolean;
          return [ok, say("merkle_on_chain", { ok }, `EvidenceNotary.verifyInBatch = ${ok}`)];
        });
      }
    }
    if (doc.anchors.length === 0)
      add(
        say("check.document_anchored", docParams, `${label}: anchored`),
        false,
        say("document_no_anchor", {}, "the bundle gives no anchor for this document"),
      );
  }

  // Files the court holds: each must be one of the bundle's documents, byte for byte.
  for (const file of input.files ?? []) {
    const digest = sha256(file.bytes);
    const doc = bundle.documents.find((d) => lower(d.sha256) === digest);
    add(
      say("check.file_sha256", { file: file.name }, `file ${file.name}: sha256`),
      !!doc,
      doc
        ? say("file_is_document", { digest, role: doc.role }, `${digest} is the ${doc.role}`)
        : say("file_not_document", { digest }, `${digest} is not a document of this bundle`),
    );
  }

  // Independent time: each RFC 3161 token stamps the value its event recorded, is signed by a
  // time-stamping authority, and agrees with the block time within the tolerance.
  const timeLines: Said[] = [];
  const tolerance = input.timeToleranceSeconds ?? DEFAULT_TIME_TOLERANCE_SECONDS;
  let trusted: ReturnType<typeof parseCertificate>[] = [];
  try {
    trusted = (input.trustedTsaCertificates ?? []).map(parseCertificate);
  } catch (err) {
    const message = (err as Error).message;
    add(
      say("check.tsa_certificate", {}, "timestamps: trusted authority certificate"),
      false,
      say("certificate_unreadable", { message }, `a certificate given as trusted cannot be read: ${message}`),
    );
  }
  for (const t of bundle.timestamps ?? []) {
    const label = `timestamp of the ${t.of} ${short(t.value)}`;
    const stamped = { of: t.of, value: short(t.value) };
    const ev = eventsById.get(t.event);
    const recorded =
      ev &&
      (t.of === "agreement digest"
        ? ev.event === "AgreementRecorded" && lower(String(ev.args.digest)) === lower(t.value)
        : ev.event === "BatchAnchored" && lower(String(ev.args.root)) === lower(t.value));
    add(
      say("check.timestamp_recorded", stamped, `${label}: recorded on chain`),
      !!recorded,
      recorded
        ? say(
            "timestamp_recorded",
            { contract: ev!.contract, event: ev!.event, block: ev!.blockNumber },
            `${ev!.contract}.${ev!.event} in block ${ev!.blockNumber} carries it`,
          )
        : say("timestamp_not_recorded", { event: t.event, value: t.value }, `event ${t.event} does not record ${t.value}`),
    );
    let token: Uint8Array;
    try {
      token = tokenFromBase64(t.token);
    } catch {
      add(say("check.timestamp_token", stamped, `${label}: RFC 3161 token`), false, say("token_not_base64", {}, "the token is not base64"));
      continue;
    }
    const result = await checkTimestampToken(token, t.value as Hex, trusted);
    const [tokenEn, tokenTexts] = result.ok ? [result.steps, result.stepTexts] : [result.problems, result.problemTexts];
    const tokenParts: Said[] = tokenEn.map((en, k) => ({ en, text: tokenTexts[k] }));
    if (result.ok && !trusted.length)
      tokenParts.push(
        say("token_authority_unchecked", {}, "the authority's identity was NOT checked against a trusted certificate (none given)"),
      );
    add(say("check.timestamp_token", stamped, `${label}: RFC 3161 token`), result.ok, tokenParts);
    if (!result.genTime || !ev) continue;
    const tokenTime = Math.floor(result.genTime.getTime() / 1000);
    const diff = tokenTime - ev.blockTime;
    const agrees = Math.abs(diff) <= tolerance;
    const timeParams = {
      tokenTime: result.genTime.toISOString(),
      blockTime: ev.blockTimeIso,
      seconds: Math.abs(diff),
      direction: diff >= 0 ? "later" : "earlier",
      tolerance,
    };
    add(
      say("check.timestamp_time", stamped, `${label}: block time agrees with the token`),
      agrees,
      say(
        agrees ? "token_time_within" : "token_time_beyond",
        timeParams,
        `token time ${result.genTime.toISOString()}, block time ${ev.blockTimeIso}: ${Math.abs(diff)} s ${diff >= 0 ? "later" : "earlier"}${agrees ? `, within the ${tolerance} s tolerance` : `, more than the ${tolerance} s tolerance: the block's time is not borne out by the authority`}`,
      ),
    );
    if (result.ok && agrees) {
      timeLines.push(
        say(
          "time_attested",
          {
            tsa: result.tsa ?? "",
            chainChecked: result.chainChecked,
            of: t.of,
            value: t.value,
            tokenTime: result.genTime.toISOString(),
            serial: result.serial ?? "",
            seconds: Math.abs(diff),
            direction: diff >= 0 ? "after" : "before",
            blockTime: ev.blockTimeIso,
          },
          `The time-stamping authority ${result.tsa} (${result.chainChecked ? "certificate chained to the trusted authority given" : "identity not checked against a trusted authority"}) attests that the ${t.of} ${t.value} ` +
            `existed at ${result.genTime.toISOString()} (RFC 3161 token serial ${result.serial}), ${Math.abs(diff)} s ${diff >= 0 ? "after" : "before"} the block time ${ev.blockTimeIso}.`,
        ),
      );
    }
  }
  if (!(bundle.timestamps ?? []).length)
    timeLines.push(
      say("time_none", {}, "This bundle carries no RFC 3161 timestamp: every time above is the block producer's clock alone."),
    );

  // What the facts establish: the subject must be among them, and the summary must say only that.
  const { problem, problemText, lines, texts } = statementsOf(bundle);
  const subject = { kind: bundle.kind, id: bundle.id };
  add(
    say("check.subject", subject, `subject: ${bundle.kind} ${bundle.id}`),
    problem === null,
    problem === null
      ? say("subject_established", subject, `the bundle's facts establish ${bundle.kind} ${bundle.id}`)
      : say(problemText!.code, problemText!.params, problem),
  );
  if (problem === null) {
    const derived = lines.join(" ");
    add(
      say("check.summary", {}, "summary: says only what the checked facts say"),
      bundle.summary === derived,
      bundle.summary === derived
        ? say("summary_ok", {}, "the bundle's summary is word for word the statements recomputed from its facts")
        : firstDifference(bundle.summary, derived),
    );
  }
  return done(bundle, [
    ...lines.map((en, i) => ({ en, text: { statement: texts[i] } })),
    ...timeLines.map((l) => ({ en: l.en, text: { verdict: l.text } })),
  ]);
}

/** The Merkle path step by step (OpenZeppelin's standard tree: double-keccak leaf, sorted pairs). */
function merkleSteps(leafValue: string, proof: string[], root: string): Said[] {
  let node = standardLeafHash(["bytes32"], [leafValue]);
  const steps = [say("merkle_leaf", { hash: short(node) }, `leaf hash ${short(node)}`)];
  proof.forEach((p, i) => {
    node = standardNodeHash(node, p);
    steps.push(
      say(
        "merkle_step",
        { step: i + 1, total: proof.length, sibling: short(p), hash: short(node) },
        `step ${i + 1} of ${proof.length} with ${short(p)} gives ${short(node)}`,
      ),
    );
  });
  if (lower(node) === lower(root)) {
    // The last step reaches the anchored root.
    const last = steps.pop()!;
    const code = last.text.code === "merkle_leaf" ? "merkle_leaf_root" : "merkle_step_root";
    return [...steps, say(code, last.text.params, `${last.en}: the anchored root`)];
  }
  return [
    ...steps,
    say(
      "merkle_root_mismatch",
      { root, hash: node },
      `the last step should give the anchored root ${root} but gives ${node}: the proof does not lead from this document to this root`,
    ),
  ];
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
