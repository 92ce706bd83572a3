import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { as, deployFixture, h, nextTime } from "./fixture";

const sha = (text: string) => hre.ethers.sha256(hre.ethers.toUtf8Bytes(text));

describe("EvidenceNotary", () => {
  it("anchors a document hash with anchorer, block number, block time and kind", async () => {
    const f = await loadFixture(deployFixture);
    const doc = sha("purchase order 1");
    expect(await as(f.notary, f.supplier).anchor.staticCall(doc, 3, h("order 1"))).to.equal(true);
    const at = await nextTime();
    const tx = await as(f.notary, f.supplier).anchor(doc, 3, h("order 1"));
    await expect(tx).to.emit(f.notary, "Anchored").withArgs(doc, f.supplier.address, h("order 1"), 3, at);
    const receipt = await tx.wait();
    const a = await f.notary.getAnchor(doc);
    expect([a.anchorer, a.timestamp, a.blockNumber, a.kind]).to.deep.equal([f.supplier.address, BigInt(at), BigInt(receipt!.blockNumber), 3n]);
  });

  it("keeps the first anchor of a hash anchored twice and says so with AnchorRepeated", async () => {
    const f = await loadFixture(deployFixture);
    const doc = sha("invoice");
    const firstAt = await nextTime();
    await as(f.notary, f.supplier).anchor(doc, 1, h("first"));
    const first = await f.notary.getAnchor(doc);
    expect(await as(f.notary, f.auditor).anchor.staticCall(doc, 2, h("second"))).to.equal(false);
    const tx = as(f.notary, f.auditor).anchor(doc, 2, h("second"));
    await expect(tx).to.emit(f.notary, "AnchorRepeated").withArgs(doc, f.auditor.address, f.supplier.address, firstAt);
    await expect(tx).not.to.emit(f.notary, "Anchored");
    expect(await f.notary.getAnchor(doc)).to.deep.equal(first);
  });

  it("returns an empty anchor for a hash never anchored", async () => {
    const f = await loadFixture(deployFixture);
    const a = await f.notary.getAnchor(sha("never"));
    expect(a.timestamp).to.equal(0n);
    expect(a.anchorer).to.equal(hre.ethers.ZeroAddress);
  });

  it("refuses the zero hash and an anchorer who is not a participant", async () => {
    const f = await loadFixture(deployFixture);
    await expect(as(f.notary, f.supplier).anchor(hre.ethers.ZeroHash, 1, h("r"))).to.be.revertedWithCustomError(f.notary, "NotaryZeroHash");
    await expect(as(f.notary, f.outsider).anchor(sha("x"), 1, h("r")))
      .to.be.revertedWithCustomError(f.notary, "NotaryNotActiveParticipant")
      .withArgs(f.outsider.address);
    await expect(as(f.notary, f.outsider).anchorBatch(sha("root"), 2, 1, h("r")))
      .to.be.revertedWithCustomError(f.notary, "NotaryNotActiveParticipant")
      .withArgs(f.outsider.address);
  });

  describe("batches", () => {
    const leaves = Array.from({ length: 13 }, (_, i) => sha(`document ${i}`));
    const tree = StandardMerkleTree.of(leaves.map((x) => [x]), ["bytes32"]);

    it("anchors the Merkle root of a batch and proves each member with its OpenZeppelin proof", async () => {
      const f = await loadFixture(deployFixture);
      const at = await nextTime();
      await expect(as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("batch 1")))
        .to.emit(f.notary, "BatchAnchored")
        .withArgs(tree.root, f.auditor.address, h("batch 1"), 6, leaves.length, at);
      expect((await f.notary.getAnchor(tree.root)).kind).to.equal(await f.notary.KIND_BATCH());
      for (const [i, [leaf]] of tree.entries()) {
        expect(await f.notary.verifyInBatch(tree.root, leaf, tree.getProof(i))).to.equal(true);
      }
    });

    it("refuses membership of a document not in the batch, a wrong proof, and a root anchored as a plain document", async () => {
      const f = await loadFixture(deployFixture);
      await as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("batch"));
      expect(await f.notary.verifyInBatch(tree.root, sha("not in batch"), tree.getProof(0))).to.equal(false);
      expect(await f.notary.verifyInBatch(tree.root, leaves[1], tree.getProof(0))).to.equal(false);
      const other = StandardMerkleTree.of([[sha("a")], [sha("b")]], ["bytes32"]);
      await as(f.notary, f.auditor).anchor(other.root, 1, h("plain"));
      expect(await f.notary.verifyInBatch(other.root, sha("a"), other.getProof(0))).to.equal(false);
      // Not anchored at all.
      const third = StandardMerkleTree.of([[sha("c")], [sha("d")]], ["bytes32"]);
      expect(await f.notary.verifyInBatch(third.root, sha("c"), third.getProof(0))).to.equal(false);
    });

    it("refuses an empty batch and keeps the first anchor of a repeated root", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.notary, f.auditor).anchorBatch(tree.root, 0, 6, h("b"))).to.be.revertedWithCustomError(f.notary, "NotaryEmptyBatch");
      const firstAt = await nextTime();
      await as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("b"));
      const tx = as(f.notary, f.supplier).anchorBatch(tree.root, leaves.length, 6, h("b2"));
      await expect(tx).to.emit(f.notary, "AnchorRepeated").withArgs(tree.root, f.supplier.address, f.auditor.address, firstAt);
      await expect(tx).not.to.emit(f.notary, "BatchAnchored");
    });
  });
});

describe("SettlementToken", () => {
  it("has 2 decimals and lets only the minter mint", async () => {
    const f = await loadFixture(deployFixture);
    expect(await f.token.decimals()).to.equal(2n);
    expect(await f.token.symbol()).to.equal("dCNY");
    await expect(f.token.mint(f.outsider.address, 12_345n)).to.changeTokenBalance(f.token, f.outsider, 12_345n);
    await expect(as(f.token, f.buyer).mint(f.buyer.address, 1n))
      .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
      .withArgs(f.buyer.address, await f.token.MINTER_ROLE());
  });
});
