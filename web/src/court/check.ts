/**
 * What the court page (in the app and the standalone court verifier) checks, reading the chain
 * itself: an agreement by id, a document by sha256 (anchored alone on the notary, a member of an
 * anchored Merkle batch, or named in a contract's event), a transaction, and a whole evidence bundle
 * (the same verifier module as the CLI). The service, when there is one, only offers hints (a batch
 * proof); the chain decides.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { decodeEventLog, getAbiItem, recoverTypedDataAddress, type Address, type Hex, type Log, type PublicClient } from "viem";
import type { ContractName } from "../../../node-service/src/chain/contract-names";
import { loanTermsFromJson, loanTermsTypedData } from "../../../node-service/src/chain/eip712";
import { BUNDLE_FORMAT } from "../../../node-service/src/evidence/bundle-format";
import { verifyBundle, type PublishedDeployment, type Verdict as BundleVerdict } from "../../../node-service/src/evidence/verify";
import { ABI } from "../contracts";

export interface CourtChain {
  client: PublicClient;
  chainId: number;
  contracts: Record<ContractName, Address>;
  /** First block of the deployment (0 when unknown). */
  startBlock: number;
}

export interface Signer {
  role: "borrower" | "lender";
  expected: string;
  recovered: string | null;
  registered: boolean;
  roles: number;
  /** The registry's display-name commitment for the signer, read from the chain here. */
  displayNameHash?: Hex;
}

/** One place the chain shows a document's hash. */
export interface Anchor {
  via: "notary" | "batch" | "record";
  /** What recorded it, in words ("EvidenceNotary.Anchored", "TradeOrders.OrderCreated (documentHash) of order 3"). */
  what: string;
  blockNumber: bigint;
  blockHash: Hex;
  time: number;
  txHash: Hex;
  by?: string;
  /** For a batch: the anchored root and how the proof was checked. */
  root?: Hex;
  proofSource?: string;
}

/** A batch proof offered by someone (the service or a bundle): checked here, never trusted. */
export interface ProofHint {
  root: Hex;
  proof: Hex[];
  source: string;
}

export interface ChainVerdict {
  query: string;
  sha256?: Hex;
  anchored: boolean;
  kind: "document" | "agreement" | "transaction" | "none" | "no-agreement";
  blockNumber?: bigint;
  blockHash?: Hex;
  time?: number;
  txHash?: Hex;
  loanId?: string;
  principal?: string;
  signers?: Signer[];
  anchors: Anchor[];
  notes: string[];
}

export async function sha256OfBytes(bytes: ArrayBuffer): Promise<Hex> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return `0x${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const lower = (a: string) => a.toLowerCase();

type Decoded = { eventName: string; args: Record<string, unknown> };

/** Reads what the chain says about an agreement id, a document hash or a transaction hash. */
export async function checkOnChain(
  chain: CourtChain,
  query: string,
  opts: { sha256?: Hex; proofs?: ProofHint[] } = {},
): Promise<ChainVerdict> {
  const { client, contracts } = chain;
  const fromBlock = BigInt(chain.startBlock);
  const notes: string[] = [];
  const blockTimes = new Map<Hex, number>();
  const timeOf = async (blockHash: Hex) => {
    if (!blockTimes.has(blockHash)) blockTimes.set(blockHash, Number((await client.getBlock({ blockHash })).timestamp));
    return blockTimes.get(blockHash)!;
  };
  const logsOf = async (contract: ContractName, name: string, args?: Record<string, unknown>) => {
    const logs = await client.getLogs({
      address: contracts[contract],
      event: getAbiItem({ abi: ABI[contract], name }) as never,
      ...(args ? { args: args as never } : {}),
      fromBlock,
      toBlock: "latest",
    });
    return (logs as Log[]).map((log) => ({
      log,
      ...(decodeEventLog({ abi: ABI[contract], data: log.data, topics: log.topics }) as unknown as Decoded),
    }));
  };
  const anchorOf = async (via: Anchor["via"], what: string, log: Log, extra: Partial<Anchor> = {}): Promise<Anchor> => ({
    via,
    what,
    blockNumber: log.blockNumber!,
    blockHash: log.blockHash!,
    time: await timeOf(log.blockHash!),
    txHash: log.transactionHash!,
    ...extra,
  });

  async function fromAgreementLog(log: Log, args: Record<string, unknown>, anchors: Anchor[]): Promise<ChainVerdict> {
    const a = args as {
      loanId: bigint;
      borrower: Address;
      lender: Address;
      terms: Record<string, unknown>;
      borrowerSignature: Hex;
      lenderSignature: Hex;
    };
    // The same EIP-712 definition the contract and the service use (node-service/src/chain/eip712.ts).
    const typed = loanTermsTypedData(chain.chainId, contracts.LoanAgreements, loanTermsFromJson(a.terms));
    const signers: Signer[] = [];
    for (const [role, expected, signature] of [
      ["borrower", a.borrower, a.borrowerSignature],
      ["lender", a.lender, a.lenderSignature],
    ] as const) {
      let recovered: string | null = null;
      try {
        recovered = await recoverTypedDataAddress({ ...typed, signature } as never);
      } catch {
        notes.push(
          `the ${role}'s signature does not recover to a key: a contract wallet signs by ERC-1271, which the contract checked when recording`,
        );
      }
      // A contract wallet's owner key recovers, not the wallet: ask the wallet as of the recording block.
      if (recovered && lower(recovered) !== lower(expected)) {
        const ok = await client
          .verifyTypedData({ ...typed, address: expected, signature, blockNumber: log.blockNumber! } as never)
          .catch(() => false);
        if (ok) {
          notes.push(`the ${role} ${expected} is a contract wallet; it accepts the signature (ERC-1271)`);
          recovered = null;
        }
      }
      const p = (await client.readContract({
        address: contracts.ParticipantRegistry,
        abi: ABI.ParticipantRegistry,
        functionName: "participant",
        args: [expected],
      })) as {
        roles: number;
        admittedAt: number;
        displayNameHash: Hex;
      };
      signers.push({
        role,
        expected,
        recovered,
        registered: Number(p.admittedAt) > 0,
        roles: Number(p.roles),
        displayNameHash: p.displayNameHash,
      });
    }
    const docHash = lower(String(a.terms.documentHash)) as Hex;
    return {
      query,
      sha256: docHash,
      anchored: true,
      kind: "agreement",
      blockNumber: log.blockNumber!,
      blockHash: log.blockHash!,
      time: await timeOf(log.blockHash!),
      txHash: log.transactionHash!,
      loanId: a.loanId.toString(),
      principal: String(a.terms.principal),
      signers,
      anchors: anchors.length ? anchors : await documentAnchors(docHash),
      notes,
    };
  }

  /** Every place the chain shows this hash: notary, a batch (with an offered proof), contract events. */
  async function documentAnchors(hash: Hex): Promise<Anchor[]> {
    const anchors: Anchor[] = [];
    for (const { log, args } of await logsOf("EvidenceNotary", "Anchored", { documentHash: hash })) {
      anchors.push(await anchorOf("notary", "EvidenceNotary.Anchored (the document alone)", log, { by: lower(String(args.anchorer)) }));
    }
    for (const hint of opts.proofs ?? []) {
      const root = lower(hint.root) as Hex;
      const rootLogs = await logsOf("EvidenceNotary", "BatchAnchored", { root });
      if (!rootLogs.length) {
        notes.push(`${hint.source} offered a batch proof for root ${root}, but that root was never anchored on this chain`);
        continue;
      }
      if (!StandardMerkleTree.verify(root, ["bytes32"], [hash], hint.proof)) {
        notes.push(`${hint.source} offered a batch proof for root ${root}, but the proof does not lead from this document to that root`);
        continue;
      }
      // The notary keeps batch roots per anchorer: ask about the root as the first anchorer recorded it.
      const { log, args } = rootLogs[0];
      const anchorer = String(args.anchorer) as Address;
      const onChain = (await client.readContract({
        address: contracts.EvidenceNotary,
        abi: ABI.EvidenceNotary,
        functionName: "verifyInBatch",
        args: [root, anchorer, hash, hint.proof],
      })) as boolean;
      if (!onChain) {
        notes.push(`the EvidenceNotary contract rejects the batch proof for root ${root} offered by ${hint.source}`);
        continue;
      }
      anchors.push(
        await anchorOf("batch", `EvidenceNotary.BatchAnchored (a batch of ${String(args.count)} documents)`, log, {
          by: lower(String(args.anchorer)),
          root,
          proofSource: `proof of ${hint.proof.length} steps from ${hint.source}, checked here and by the notary contract against the root on chain`,
        }),
      );
    }
    // Hashes carried in the records' own events.
    const fields: [ContractName, string, (a: Record<string, unknown>) => [string, unknown][], (a: Record<string, unknown>) => string][] = [
      ["TradeOrders", "OrderCreated", (a) => [["purchase-order document", a.documentHash]], (a) => `order ${String(a.orderId)}`],
      ["TradeOrders", "OrderShipped", (a) => [["shipping document", a.shippingDocumentHash]], (a) => `order ${String(a.orderId)}`],
      [
        "Receivables",
        "ReceivableIssued",
        (a) => [
          ["invoice", a.invoiceHash],
          ["invoice number", a.invoiceNumberHash],
        ],
        (a) => `receivable ${String(a.receivableId)}`,
      ],
      [
        "LoanAgreements",
        "AgreementRecorded",
        (a) => [["agreement document", (a.terms as Record<string, unknown>).documentHash]],
        (a) => `loan ${String(a.loanId)}`,
      ],
    ];
    for (const [contract, event, pick, subject] of fields) {
      for (const { log, args } of await logsOf(contract, event)) {
        for (const [role, value] of pick(args)) {
          if (typeof value === "string" && lower(value) === lower(hash))
            anchors.push(await anchorOf("record", `${contract}.${event}: the ${role} of ${subject(args)}`, log));
        }
      }
    }
    return anchors;
  }

  if (/^\d+$/.test(query)) {
    const logs = await logsOf("LoanAgreements", "AgreementRecorded", { loanId: BigInt(query) });
    if (logs.length === 0) return { query, anchored: false, kind: "no-agreement", anchors: [], notes };
    return fromAgreementLog(logs[0].log, logs[0].args, []);
  }
  const hash = lower(opts.sha256 ?? query) as Hex;
  const anchors = await documentAnchors(hash);
  const agreement = anchors.find((a) => a.what.startsWith("LoanAgreements.AgreementRecorded"));
  if (agreement) {
    const [rec] = (await logsOf("LoanAgreements", "AgreementRecorded")).filter((l) => l.log.transactionHash === agreement.txHash);
    return fromAgreementLog(rec.log, rec.args, anchors);
  }
  if (anchors.length) {
    const first = [...anchors].sort((a, b) => Number(a.blockNumber - b.blockNumber))[0];
    return {
      query,
      sha256: hash,
      anchored: true,
      kind: "document",
      blockNumber: first.blockNumber,
      blockHash: first.blockHash,
      time: first.time,
      txHash: first.txHash,
      anchors,
      notes,
    };
  }
  if (!opts.sha256) {
    const receipt = await client.getTransactionReceipt({ hash }).catch(() => null);
    if (receipt) {
      const ours = receipt.logs.filter((l) => Object.values(contracts).some((a) => lower(a) === lower(l.address)));
      return {
        query,
        anchored: true,
        kind: "transaction",
        blockNumber: receipt.blockNumber,
        blockHash: receipt.blockHash,
        time: await timeOf(receipt.blockHash),
        txHash: hash,
        anchors: [],
        notes: [`${ours.length} events of the network's contracts in this transaction; status ${receipt.status}`],
      };
    }
  }
  return { query, sha256: hash, anchored: false, kind: "none", anchors: [], notes };
}

/** Is this file an evidence bundle (JSON with the bundle format)? Returns it parsed, or null. */
export function asBundle(bytes: ArrayBuffer): Record<string, unknown> | null {
  if (bytes.byteLength > 50_000_000) return null;
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    return json && json.format === BUNDLE_FORMAT ? json : null;
  } catch {
    return null;
  }
}

/** The batch proofs a bundle carries for a document, as hints for checkOnChain. */
export function proofsInBundle(bundle: Record<string, unknown> | null | undefined, sha256: Hex): ProofHint[] {
  const docs = (bundle?.documents ?? []) as { sha256: string; anchors: { via: string; root?: Hex; proof?: Hex[] }[] }[];
  return docs
    .filter((d) => lower(d.sha256) === lower(sha256))
    .flatMap((d) =>
      d.anchors
        .filter((a) => a.via === "batch" && a.root && a.proof)
        .map((a) => ({ root: a.root!, proof: a.proof!, source: "the evidence bundle" })),
    );
}

/** Verifies a dropped evidence bundle in the browser, as the CLI does. */
export function verifyBundleHere(
  chain: CourtChain,
  bundle: unknown,
  files: { name: string; bytes: Uint8Array }[],
  published?: PublishedDeployment,
  trustedTsaCertificates?: Uint8Array[],
): Promise<BundleVerdict> {
  return verifyBundle({ bundle, publicClient: chain.client, abis: ABI, files, published, trustedTsaCertificates });
}
