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
    const a = await f.notary.getAnchor(doc, f.supplier.address);
    expect([a.anchorer, a.timestamp, a.blockNumber, a.kind]).to.deep.equal([
      f.supplier.address,
      BigInt(at),
      BigInt(receipt!.blockNumber),
      3n,
    ]);
  });

  it("keeps an anchorer's first anchor of a hash anchored twice and says so with AnchorRepeated", async () => {
    const f = await loadFixture(deployFixture);
    const doc = sha("invoice");
    const firstAt = await nextTime();
    await as(f.notary, f.supplier).anchor(doc, 1, h("first"));
    const first = await f.notary.getAnchor(doc, f.supplier.address);
    expect(await as(f.notary, f.supplier).anchor.staticCall(doc, 2, h("second"))).to.equal(false);
    const tx = as(f.notary, f.supplier).anchor(doc, 2, h("second"));
    await expect(tx).to.emit(f.notary, "AnchorRepeated").withArgs(doc, f.supplier.address, firstAt);
    await expect(tx).not.to.emit(f.notary, "Anchored");
    expect(await f.notary.getAnchor(doc, f.supplier.address)).to.deep.equal(first);
  });

  it("does not let a front-runner become the recorded anchorer of someone else's hash (attack of issue 11)", async () => {
    const f = await loadFixture(deployFixture);
    const doc = sha("the supplier's contract");
    // The auditor sees the supplier's pending anchor and gets in first.
    await as(f.notary, f.auditor).anchor(doc, 9, h("squat"));
    const at = await nextTime();
    await expect(as(f.notary, f.supplier).anchor(doc, 2, h("mine")))
      .to.emit(f.notary, "Anchored")
      .withArgs(doc, f.supplier.address, h("mine"), 2, at);
    const mine = await f.notary.getAnchor(doc, f.supplier.address);
    expect([mine.anchorer, mine.timestamp, mine.kind]).to.deep.equal([f.supplier.address, BigInt(at), 2n]);
    expect((await f.notary.getAnchor(doc, f.auditor.address)).anchorer).to.equal(f.auditor.address);
  });

  it("returns an empty anchor for a hash never anchored by that anchorer", async () => {
    const f = await loadFixture(deployFixture);
    await as(f.notary, f.supplier).anchor(sha("once"), 1, h("r"));
    for (const [doc, who] of [
      [sha("never"), f.supplier.address],
      [sha("once"), f.auditor.address],
    ]) {
      const a = await f.notary.getAnchor(doc, who);
      expect(a.timestamp).to.equal(0n);
      expect(a.anchorer).to.equal(hre.ethers.ZeroAddress);
    }
  });

  it("refuses the zero hash and an anchorer who is not a participant", async () => {
    const f = await loadFixture(deployFixture);
    await expect(as(f.notary, f.supplier).anchor(hre.ethers.ZeroHash, 1, h("r"))).to.be.revertedWithCustomError(
      f.notary,
      "EvidenceNotaryZeroHash",
    );
    await expect(as(f.notary, f.supplier).anchorBatch(hre.ethers.ZeroHash, 1, 1, h("r"))).to.be.revertedWithCustomError(
      f.notary,
      "EvidenceNotaryZeroHash",
    );
    await expect(as(f.notary, f.outsider).anchor(sha("x"), 1, h("r")))
      .to.be.revertedWithCustomError(f.notary, "EvidenceNotaryNotActiveParticipant")
      .withArgs(f.outsider.address);
    await expect(as(f.notary, f.outsider).anchorBatch(sha("root"), 2, 1, h("r")))
      .to.be.revertedWithCustomError(f.notary, "EvidenceNotaryNotActiveParticipant")
      .withArgs(f.outsider.address);
  });

  describe("several anchors in one transaction (multicall)", () => {
    const call = (f: Awaited<ReturnType<typeof deployFixture>>, doc: string, kind: number, ref: string) =>
      f.notary.interface.encodeFunctionData("anchor", [doc, kind, ref]);

    it("records each hash for the caller with its own Anchored event, as if anchored one by one", async () => {
      const f = await loadFixture(deployFixture);
      const docs = [sha("decision 1"), sha("decision 2"), sha("decision 3")];
      const at = await nextTime();
      const tx = await as(f.notary, f.auditor).multicall(docs.map((d, i) => call(f, d, 4, h(`application ${i}`))));
      const receipt = await tx.wait();
      for (const [i, d] of docs.entries()) {
        await expect(tx)
          .to.emit(f.notary, "Anchored")
          .withArgs(d, f.auditor.address, h(`application ${i}`), 4, at);
        const a = await f.notary.getAnchor(d, f.auditor.address);
        // The caller is the anchorer (a delegatecall to itself keeps msg.sender), never the contract.
        expect([a.anchorer, a.timestamp, a.blockNumber, a.kind]).to.deep.equal([
          f.auditor.address,
          BigInt(at),
          BigInt(receipt!.blockNumber),
          4n,
        ]);
        expect((await f.notary.getAnchor(d, await f.notary.getAddress())).timestamp).to.equal(0n);
      }
    });

    it("keeps the first record of a hash repeated in the batch or anchored before, and anchors the rest", async () => {
      const f = await loadFixture(deployFixture);
      const firstAt = await nextTime();
      await as(f.notary, f.auditor).anchor(sha("old"), 4, h("first"));
      const tx = as(f.notary, f.auditor).multicall([
        call(f, sha("old"), 4, h("again")),
        call(f, sha("new"), 4, h("new")),
        call(f, sha("new"), 4, h("twice")),
      ]);
      await expect(tx).to.emit(f.notary, "AnchorRepeated").withArgs(sha("old"), f.auditor.address, firstAt);
      await expect(tx)
        .to.emit(f.notary, "AnchorRepeated")
        .withArgs(sha("new"), f.auditor.address, firstAt + 1);
      const receipt = await (await tx).wait();
      const logs = receipt!.logs.map((l: { topics: string[]; data: string }) => f.notary.interface.parseLog(l)!) as {
        name: string;
        args: { documentHash: string; ref: string };
      }[];
      // One Anchored event, the first of "new"; both repeats say so instead.
      expect(logs.filter((l) => l.name === "Anchored").map((l) => [l.args.documentHash, l.args.ref])).to.deep.equal([
        [sha("new"), h("new")],
      ]);
      expect(logs.filter((l) => l.name === "AnchorRepeated")).to.have.length(2);
      expect((await f.notary.getAnchor(sha("old"), f.auditor.address)).timestamp).to.equal(BigInt(firstAt));
    });

    it("refuses the whole batch when one call must fail: a stranger anchors nothing, a zero hash undoes the others", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.notary, f.outsider).multicall([call(f, sha("x"), 4, h("r"))]))
        .to.be.revertedWithCustomError(f.notary, "EvidenceNotaryNotActiveParticipant")
        .withArgs(f.outsider.address);
      await expect(
        as(f.notary, f.auditor).multicall([call(f, sha("good"), 4, h("r")), call(f, hre.ethers.ZeroHash, 4, h("r"))]),
      ).to.be.revertedWithCustomError(f.notary, "EvidenceNotaryZeroHash");
      expect((await f.notary.getAnchor(sha("good"), f.auditor.address)).timestamp).to.equal(0n);
    });
  });

  describe("batches", () => {
    const leaves = Array.from({ length: 13 }, (_, i) => sha(`document ${i}`));
    const tree = StandardMerkleTree.of(
      leaves.map((x) => [x]),
      ["bytes32"],
    );

    it("anchors the Merkle root of a batch and proves each member with its OpenZeppelin proof", async () => {
      const f = await loadFixture(deployFixture);
      const at = await nextTime();
      await expect(as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("batch 1")))
        .to.emit(f.notary, "BatchAnchored")
        .withArgs(tree.root, f.auditor.address, h("batch 1"), 6, leaves.length, at);
      const b = await f.notary.getBatch(tree.root, f.auditor.address);
      expect([b.anchorer, b.timestamp, b.kind]).to.deep.equal([f.auditor.address, BigInt(at), 6n]);
      // The batch namespace is not the single-document one.
      expect((await f.notary.getAnchor(tree.root, f.auditor.address)).timestamp).to.equal(0n);
      for (const [i, [leaf]] of tree.entries()) {
        expect(await f.notary.verifyInBatch(tree.root, f.auditor.address, leaf, tree.getProof(i))).to.equal(true);
      }
    });

    it("refuses membership of a document not in the batch, a wrong proof, another anchorer, and a root anchored as a plain document", async () => {
      const f = await loadFixture(deployFixture);
      await as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("batch"));
      expect(await f.notary.verifyInBatch(tree.root, f.auditor.address, sha("not in batch"), tree.getProof(0))).to.equal(false);
      expect(await f.notary.verifyInBatch(tree.root, f.auditor.address, leaves[1], tree.getProof(0))).to.equal(false);
      expect(await f.notary.verifyInBatch(tree.root, f.supplier.address, leaves[0], tree.getProof(0))).to.equal(false);
      const other = StandardMerkleTree.of([[sha("a")], [sha("b")]], ["bytes32"]);
      await as(f.notary, f.auditor).anchor(other.root, 1, h("plain"));
      expect(await f.notary.verifyInBatch(other.root, f.auditor.address, sha("a"), other.getProof(0))).to.equal(false);
      // Not anchored at all.
      const third = StandardMerkleTree.of([[sha("c")], [sha("d")]], ["bytes32"]);
      expect(await f.notary.verifyInBatch(third.root, f.auditor.address, sha("c"), third.getProof(0))).to.equal(false);
    });

    it("does not let anyone squat a batch root with anchor() or anchorBatch() before its batch is anchored (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      // A front-runner copies the pending root into both functions.
      await as(f.notary, f.supplier).anchor(tree.root, 0xffff, h("squat"));
      await as(f.notary, f.supplier).anchorBatch(tree.root, leaves.length, 6, h("squat"));
      // The real batch is still fresh for its anchorer, and its documents verify against it.
      expect(await as(f.notary, f.auditor).anchorBatch.staticCall(tree.root, leaves.length, 6, h("batch"))).to.equal(true);
      await expect(as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("batch"))).to.emit(f.notary, "BatchAnchored");
      expect(await f.notary.verifyInBatch(tree.root, f.auditor.address, leaves[3], tree.getProof(3))).to.equal(true);
    });

    it("refuses an empty batch and keeps an anchorer's first record of a repeated root", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.notary, f.auditor).anchorBatch(tree.root, 0, 6, h("b"))).to.be.revertedWithCustomError(
        f.notary,
        "EvidenceNotaryEmptyBatch",
      );
      const firstAt = await nextTime();
      await as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("b"));
      const tx = as(f.notary, f.auditor).anchorBatch(tree.root, leaves.length, 6, h("b2"));
      await expect(tx).to.emit(f.notary, "AnchorRepeated").withArgs(tree.root, f.auditor.address, firstAt);
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
