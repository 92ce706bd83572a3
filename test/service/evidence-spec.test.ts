/**
 * The written evidence specification (node-service/src/evidence/SPEC.md) and its test vectors: each
 * vector is recomputed here from the rules as written (node:crypto and bare keccak256, not the
 * libraries the verifier uses), then from the code's shared definitions, so the text, the vectors and
 * the code cannot drift apart.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { concat, encodeAbiParameters, hashTypedData, hexToBigInt, hexToBytes, keccak256, toHex, type Address, type Hex } from "viem";
import { REPO_ROOT } from "../../node-service/src/chain/contracts";
import { LOAN_TERMS_TYPES, RECEIVABLE_ACKNOWLEDGMENT_TYPES } from "../../node-service/src/chain/eip712";
import { imprintOf } from "../../node-service/src/evidence/rfc3161";
import { displayNameCommitment } from "../../node-service/src/domain/name-commitment";

const DIR = path.join(REPO_ROOT, "node-service/src/evidence");
const SPEC = readFileSync(path.join(DIR, "SPEC.md"), "utf8");
const V = JSON.parse(readFileSync(path.join(DIR, "spec-vectors.json"), "utf8"));
type Field = { name: string; type: string };

const sha256 = (bytes: Uint8Array | string): Hex => `0x${createHash("sha256").update(bytes).digest("hex")}`;
const typeString = (name: string, fields: readonly Field[]) => `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;

/** §3: leaf = keccak256(keccak256(the 32 bytes)); pair = keccak256(smaller ‖ larger). */
function leafHash(value: Hex): Hex {
  return keccak256(keccak256(value));
}
function pair(a: Hex, b: Hex): Hex {
  return hexToBigInt(a) < hexToBigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** §4, for structs of atomic members and uint256[]. */
function hashStruct(name: string, fields: readonly Field[], message: Record<string, unknown>): Hex {
  const types = [{ type: "bytes32" }, ...fields.map((f) => ({ type: f.type.endsWith("[]") || f.type === "string" ? "bytes32" : f.type }))];
  const values = [
    keccak256(toHex(typeString(name, fields))),
    ...fields.map((f) => {
      const v = message[f.name];
      if (f.type === "uint256[]")
        return keccak256(concat((v as string[]).map((x) => encodeAbiParameters([{ type: "uint256" }], [BigInt(x)]))));
      if (f.type === "string") return keccak256(toHex(v as string));
      if (f.type.startsWith("uint")) return BigInt(v as string);
      return v;
    }),
  ];
  return keccak256(encodeAbiParameters(types, values));
}
const DOMAIN_FIELDS: Field[] = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];
function digestOf(
  domain: { name: string; version: string; chainId: number; verifyingContract: Address },
  name: string,
  fields: readonly Field[],
  message: Record<string, unknown>,
): Hex {
  const separator = hashStruct("EIP712Domain", DOMAIN_FIELDS, { ...domain, chainId: String(domain.chainId) });
  return keccak256(concat(["0x1901", separator, hashStruct(name, fields, message)]));
}

describe("the evidence specification and its test vectors", function () {
  it("sha256 of each document's bytes", function () {
    for (const d of V.sha256) expect(sha256(d.text), d.text).to.equal(d.sha256);
  });

  it("Merkle leaves, pairs and proofs as written lead to the root, and OpenZeppelin's tree agrees", function () {
    for (const leaf of V.merkle.leaves) {
      expect(leafHash(leaf.sha256)).to.equal(leaf.leafHash);
      const root = (leaf.proof as Hex[]).reduce((node, sibling) => pair(node, sibling), leaf.leafHash as Hex);
      expect(root, leaf.sha256).to.equal(V.merkle.root);
      expect(StandardMerkleTree.verify(V.merkle.root, ["bytes32"], [leaf.sha256], leaf.proof)).to.equal(true);
    }
    const tree = StandardMerkleTree.of(
      V.merkle.documents.map((d: { sha256: string }) => [d.sha256]),
      ["bytes32"],
    );
    expect(tree.root).to.equal(V.merkle.root);
    // A proof with one sibling changed no longer reaches the root.
    const bad = [...V.merkle.leaves[0].proof];
    bad[0] = `0x${"00".repeat(31)}01`;
    expect(StandardMerkleTree.verify(V.merkle.root, ["bytes32"], [V.merkle.leaves[0].sha256], bad)).to.equal(false);
  });

  it("EIP-712 type strings in the specification are the shared definitions'", function () {
    const loan = typeString("LoanTerms", LOAN_TERMS_TYPES.LoanTerms);
    const ack = typeString("ReceivableAcknowledgment", RECEIVABLE_ACKNOWLEDGMENT_TYPES.ReceivableAcknowledgment);
    expect(V.eip712.loanTerms.typeString).to.equal(loan);
    expect(V.eip712.receivableAcknowledgment.typeString).to.equal(ack);
    expect(SPEC, "SPEC.md §4 lists the LoanTerms type").to.contain(`    ${loan}\n`);
    expect(SPEC, "SPEC.md §4 lists the ReceivableAcknowledgment type").to.contain(`    ${ack}\n`);
    expect(keccak256(toHex(loan))).to.equal(V.eip712.loanTerms.typeHash);
  });

  it("EIP-712 digests computed as written equal the vectors and viem's", function () {
    const l = V.eip712.loanTerms;
    expect(hashStruct("EIP712Domain", DOMAIN_FIELDS, { ...l.domain, chainId: String(l.domain.chainId) })).to.equal(l.domainSeparator);
    expect(digestOf(l.domain, "LoanTerms", LOAN_TERMS_TYPES.LoanTerms, l.message)).to.equal(l.digest);
    const revive = (fields: readonly Field[], m: Record<string, unknown>) =>
      Object.fromEntries(
        fields.map((f) => [
          f.name,
          f.type === "uint256[]"
            ? (m[f.name] as string[]).map(BigInt)
            : f.type.startsWith("uint")
              ? BigInt(m[f.name] as string)
              : m[f.name],
        ]),
      );
    expect(
      hashTypedData({
        domain: l.domain,
        types: LOAN_TERMS_TYPES,
        primaryType: "LoanTerms",
        message: revive(LOAN_TERMS_TYPES.LoanTerms, l.message) as never,
      }),
    ).to.equal(l.digest);
    const a = V.eip712.receivableAcknowledgment;
    const fields = RECEIVABLE_ACKNOWLEDGMENT_TYPES.ReceivableAcknowledgment;
    expect(digestOf(a.domain, "ReceivableAcknowledgment", fields, a.message)).to.equal(a.digest);
    expect(
      hashTypedData({
        domain: a.domain,
        types: RECEIVABLE_ACKNOWLEDGMENT_TYPES,
        primaryType: "ReceivableAcknowledgment",
        message: revive(fields, a.message) as never,
      }),
    ).to.equal(a.digest);
  });

  it("RFC 3161 imprints are SHA-256 of the 32 raw bytes, not of the hex text", function () {
    for (const r of V.rfc3161) {
      expect(sha256(hexToBytes(r.value))).to.equal(r.imprint);
      expect(toHex(imprintOf(r.value))).to.equal(r.imprint);
      expect(sha256(r.value)).not.to.equal(r.imprint);
    }
  });

  it("display-name commitments as written (sha256 of the domain, a zero byte, the salt's raw bytes and the UTF-8 name) equal the vectors and the code's", function () {
    expect(SPEC).to.contain('sha256( UTF-8 "scf-name-v1" ‖ 0x00 ‖ salt (32 bytes) ‖ UTF-8 name )');
    expect(V.names).to.have.length.greaterThan(0);
    for (const n of V.names) {
      const written = sha256(
        Buffer.concat([Buffer.from("scf-name-v1", "utf8"), Buffer.from([0]), Buffer.from(hexToBytes(n.salt)), Buffer.from(n.name, "utf8")]),
      );
      expect(written).to.equal(n.displayNameHash);
      expect(displayNameCommitment(n.salt, n.name)).to.equal(n.displayNameHash);
      expect(displayNameCommitment(n.salt, `${n.name} `)).to.not.equal(n.displayNameHash);
    }
  });

  it("names every check the reference verifier runs", function () {
    for (const heading of [
      "Chain.",
      "Each event.",
      "Each signature.",
      "The agreement.",
      "Participants.",
      "Documents.",
      "Files given.",
      "Independent time.",
      "Subject and summary.",
    ]) {
      expect(SPEC).to.contain(`**${heading}**`);
    }
  });
});
