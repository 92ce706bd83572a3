/**
 * Writes the evidence specification's test vectors (node-service/src/evidence/spec-vectors.json) from the
 * shared definitions: run it after the EIP-712 types or the Merkle rules change, then update SPEC.md;
 * test/service/evidence-spec.test.ts recomputes every vector from the written rules.
 *   npx ts-node --transpile-only scripts/evidence-spec-vectors.ts
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hashTypedData, domainSeparator, keccak256, toHex, type Hex } from "viem";
import { writeFileSync } from "node:fs";
import path from "node:path";
import {
  LOAN_TERMS_TYPES,
  RECEIVABLE_ACKNOWLEDGMENT_TYPES,
  loanTermsTypedData,
  acknowledgmentTypedData,
  loanAgreementsDomain,
  receivablesDomain,
} from "../node-service/src/chain/eip712";
import { sha256Hex } from "../node-service/src/domain/hash";
import { displayNameCommitment } from "../node-service/src/domain/name-commitment";
import { imprintOf } from "../node-service/src/evidence/rfc3161";

/** The EIP-712 type string of a struct without nested structs: "Name(type name,...)". */
const encodeType = ({ primaryType, types }: { primaryType: string; types: Record<string, readonly { name: string; type: string }[]> }) =>
  `${primaryType}(${types[primaryType].map((f) => `${f.type} ${f.name}`).join(",")})`;
const docs = ["Delivery note 1.\n", "Invoice 2026-001: 1,000.00 CNY.\n", "Loan agreement: principal 600.00.\n"].map((text) => ({
  text,
  sha256: sha256Hex(text),
}));
const tree = StandardMerkleTree.of(
  docs.map((d) => [d.sha256]),
  ["bytes32"],
);
const merkle = {
  documents: docs,
  root: tree.root,
  leaves: docs.map((d, i) => ({ sha256: d.sha256, leafHash: tree.leafHash([d.sha256]), proof: tree.getProof(i) })),
};
const chainId = 31337,
  la = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
  rc = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const;
// Sample terms for whatever fields LoanTerms has (known names get realistic values).
const sample: Record<string, unknown> = {
  borrower: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  lender: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  currency: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  principal: 60000n,
  rateBps: 1000n,
  start: 1767225600n,
  disburseBy: 1767830400n,
  maturity: 1769817600n,
  collateral: [1n],
  documentHash: docs[2].sha256,
  nonce: 1n,
  deadline: 1767312000n,
};
const terms = Object.fromEntries(
  LOAN_TERMS_TYPES.LoanTerms.map((f) => [
    f.name,
    sample[f.name] ??
      (f.type === "address" ? `0x${"11".repeat(20)}` : f.type.endsWith("[]") ? [] : f.type === "bytes32" ? `0x${"22".repeat(32)}` : 1n),
  ]),
);
const ack = { receivableId: 1n, orderId: 1n, invoiceHash: docs[1].sha256, faceValue: 100000n, maturity: 1769817600n };
const td = loanTermsTypedData(chainId, la, terms as never);
const ad = acknowledgmentTypedData(chainId, rc, ack);
const j = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
const out = {
  description:
    "Test vectors for node-service/src/evidence/SPEC.md; test/service/evidence-spec.test.ts recomputes each from the written rules.",
  sha256: docs,
  merkle,
  eip712: {
    loanTerms: {
      typeString: encodeType({ primaryType: "LoanTerms", types: LOAN_TERMS_TYPES as never }),
      typeHash: keccak256(toHex(encodeType({ primaryType: "LoanTerms", types: LOAN_TERMS_TYPES as never }))),
      domain: loanAgreementsDomain(chainId, la),
      domainSeparator: domainSeparator({ domain: loanAgreementsDomain(chainId, la) }),
      message: j(terms),
      digest: hashTypedData(td as never),
    },
    receivableAcknowledgment: {
      typeString: encodeType({ primaryType: "ReceivableAcknowledgment", types: RECEIVABLE_ACKNOWLEDGMENT_TYPES as never }),
      domain: receivablesDomain(chainId, rc),
      message: j(ack),
      digest: hashTypedData(ad as never),
    },
  },
  names: [
    { address: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", name: "深圳华信电子有限公司", salt: `0x${"5a".repeat(32)}` },
    { address: "0x90f79bf6eb2c4f870365e785982e1f101e93b906", name: "Lingnan Commercial Bank 岭南商业银行", salt: keccak256(toHex("salt")) },
  ].map((n) => ({ ...n, displayNameHash: displayNameCommitment(n.salt as Hex, n.name) })),
  rfc3161: [merkle.root, hashTypedData(td as never)].map((value) => ({ value, imprint: toHex(imprintOf(value as Hex)) })),
};
writeFileSync(path.join(__dirname, "../node-service/src/evidence/spec-vectors.json"), JSON.stringify(out, null, 2) + "\n");
console.log(`wrote the test vectors; LoanTerms type: ${out.eip712.loanTerms.typeString}`);
