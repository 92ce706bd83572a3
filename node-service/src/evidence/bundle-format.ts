/**
 * The evidence bundle: one self-contained JSON file a court can check against any JSON-RPC node with
 * scripts/verify-evidence.ts, without the service. Everything in it is a claim the verifier re-checks
 * on chain; nothing in it is trusted. The zod schema parses an untrusted file.
 */
import { z } from "zod";
import type { Address } from "viem";
import { CONTRACT_NAMES, type ContractName } from "../chain/contract-names";
import { toJsonSafe } from "../domain/json";

export const BUNDLE_FORMAT = "scf-evidence-bundle/1";
export const BUNDLE_KINDS = ["agreement", "document", "receivable", "order"] as const;
export type BundleKind = (typeof BUNDLE_KINDS)[number];

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "must be 0x-hex");
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte 0x-hex hash");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-hex address");

export const BundleEventSchema = z.object({
  /** Short id other parts of the bundle refer to ("e1", "e2", ...). */
  id: z.string(),
  contract: z.enum(CONTRACT_NAMES),
  address,
  event: z.string(),
  args: z.record(z.string(), z.unknown()),
  txHash: hash32,
  blockNumber: z.number().int().nonnegative(),
  blockHash: hash32,
  logIndex: z.number().int().nonnegative(),
  blockTime: z.number().int().nonnegative(),
  blockTimeIso: z.string(),
});
export type BundleEvent = z.infer<typeof BundleEventSchema>;

/** An EIP-712 signature and the exact typed data it signs (uint values as decimal strings). */
export const BundleSignatureSchema = z.object({
  role: z.enum(["borrower", "lender", "debtor"]),
  /** The registered participant the bundle says signed. */
  signer: address,
  signature: hex,
  typedData: z.object({
    domain: z.object({ name: z.string(), version: z.string(), chainId: z.number().int(), verifyingContract: address }),
    types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
    primaryType: z.string(),
    message: z.record(z.string(), z.unknown()),
  }),
  /** The EIP-712 digest of typedData. */
  digest: hash32,
  /** Id of the event that recorded this signature on chain. */
  recordedIn: z.string(),
});
export type BundleSignature = z.infer<typeof BundleSignatureSchema>;

export const BundleAnchorSchema = z.discriminatedUnion("via", [
  /** Anchored alone on the EvidenceNotary (event Anchored). */
  z.object({ via: z.literal("notary"), event: z.string() }),
  /** A member of a Merkle batch anchored on the EvidenceNotary (event BatchAnchored). */
  z.object({ via: z.literal("batch"), event: z.string(), root: hash32, proof: z.array(hash32) }),
  /** Carried in a record's own event, at `field` of its arguments (e.g. "terms.documentHash"). */
  z.object({ via: z.literal("record"), event: z.string(), field: z.string() }),
]);
export type BundleAnchor = z.infer<typeof BundleAnchorSchema>;

export const BundleDocumentSchema = z.object({
  sha256: hash32,
  /** What the document is in this case ("loan agreement", "invoice", ...). */
  role: z.string(),
  anchors: z.array(BundleAnchorSchema),
  /** Who uploaded the file to the service, and when: the service's own record, a claim no chain shows. */
  uploads: z.array(z.object({ by: address, kind: z.string(), at: z.string() })).optional(),
});
export type BundleDocument = z.infer<typeof BundleDocumentSchema>;

export const BundleParticipantSchema = z.object({
  address,
  roles: z.number().int(),
  roleNames: z.array(z.string()),
  /** Id of the ParticipantAdmitted event. */
  admittedIn: z.string(),
  /**
   * The participant's registered name and the salt that opens the registry's display-name commitment:
   * sha256("scf-name-v1" || 0x00 || nameSalt || UTF-8 name) is its displayNameHash (domain/name-commitment.ts).
   */
  name: z.string().optional(),
  nameSalt: hash32.optional(),
});
export type BundleParticipant = z.infer<typeof BundleParticipantSchema>;

/** An RFC 3161 time-stamp token over a batch root or an agreement digest (see ./rfc3161.ts). */
export const BundleTimestampSchema = z.object({
  of: z.enum(["batch root", "agreement digest"]),
  value: hash32,
  /** Id of the event that anchored the root or recorded the agreement. */
  event: z.string(),
  /** The authority asked (a claim; the token's certificate says who signed). */
  tsa: z.string(),
  /** The token (CMS SignedData holding a TSTInfo), DER, base64. */
  token: z.string(),
});
export type BundleTimestamp = z.infer<typeof BundleTimestampSchema>;

export const EvidenceBundleSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  kind: z.enum(BUNDLE_KINDS),
  id: z.string(),
  generatedAt: z.string(),
  chain: z.object({ chainId: z.number().int().positive(), genesisHash: hash32 }),
  contracts: z.record(z.enum(CONTRACT_NAMES), address),
  summary: z.string(),
  /** Loan id and the parties, for an agreement bundle. */
  agreement: z
    .object({ loanId: z.string(), digest: hash32, borrower: address, lender: address, documentHash: hash32, recordedIn: z.string() })
    .optional(),
  events: z.array(BundleEventSchema),
  signatures: z.array(BundleSignatureSchema),
  documents: z.array(BundleDocumentSchema),
  participants: z.array(BundleParticipantSchema),
  /** Which authority the service used for independent time, or none (in words). */
  timestamping: z.object({ authority: z.string().nullable(), note: z.string() }).optional(),
  timestamps: z.array(BundleTimestampSchema).optional(),
});
export type EvidenceBundle = z.infer<typeof EvidenceBundleSchema> & { contracts: Record<ContractName, Address> };

/** JSON-safe event arguments with lowercase addresses, so equal facts compare equal as JSON. */
export function normalizeArgs(args: unknown): Record<string, unknown> {
  const lower = (v: unknown): unknown => {
    if (typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v)) return v.toLowerCase();
    if (Array.isArray(v)) return v.map(lower);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lower(x)]));
    return v;
  };
  return lower(toJsonSafe(args ?? {})) as Record<string, unknown>;
}
