/**
 * Issue 17: the evidence lookup of a hash the index does not have scans the notary's logs from the
 * deployment block (not from block 0), and says "not indexed" instead of scanning a chain longer than
 * its bound. Real Hardhat network, the real notary; the index here is empty (it has nothing).
 */
import { expect } from "chai";
import { emptyIndexState } from "../../node-service/src/domain/entities";
import { createEvidenceService, NOT_INDEXED } from "../../node-service/src/evidence/lookup";
import { stateReader } from "../../node-service/src/store/index-reader";
import { deployNetwork, type Network } from "./api-helpers";

describe("evidence lookup of a hash the index lacks (issue 17)", function () {
  this.timeout(120_000);
  let net: Network;
  const single = () => net.h("scan: a single document");
  const root = () => net.h("scan: a batch root");

  before(async function () {
    net = await deployNetwork();
    await net.send(net.supplier, "EvidenceNotary", "anchor", [single(), 1, net.h("ref")]);
    await net.send(net.lender, "EvidenceNotary", "anchorBatch", [root(), 4, 256, net.h("ref")]);
  });

  const service = (notaryScanMaxBlocks?: number) =>
    createEvidenceService({
      publicClient: net.publicClient,
      deployment: net.deployment,
      index: () => stateReader(emptyIndexState()),
      ...(notaryScanMaxBlocks === undefined ? {} : { notaryScanMaxBlocks }),
    });

  it("finds a single anchor and a batch root on chain from the deployment block, and says the index lacks them", async function () {
    const problems: string[] = [];
    const anchor = await service().notaryAnchor(single(), problems);
    expect(anchor?.anchorer.toLowerCase()).to.equal(net.supplier.account.address.toLowerCase());
    expect(anchor?.via).to.equal("notary");
    expect(anchor?.integrity.differences.join("\n")).to.match(/the index does not have it yet/);
    const batch = await service().notaryAnchor(root(), problems);
    expect(batch?.anchorer.toLowerCase()).to.equal(net.lender.account.address.toLowerCase());
    expect(problems).to.deep.equal([]);
  });

  it("answers null for a hash never anchored, within the bound", async function () {
    const problems: string[] = [];
    expect(await service().notaryAnchor(net.h("never anchored"), problems)).to.equal(null);
    expect(problems).to.deep.equal([]);
    const lookup = await service().lookupHash(net.h("never anchored"));
    expect(lookup.summary).to.match(/was never anchored on this chain/);
  });

  it("refuses to scan beyond the bound: 'not indexed', and the summary claims nothing either way", async function () {
    const head = Number(await net.publicClient.getBlockNumber());
    const bound = head - net.deployment.startBlock; // one block short of the chain since the deployment
    const problems: string[] = [];
    expect(await service(bound).notaryAnchor(single(), problems)).to.equal(null);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(new RegExp(`^${NOT_INDEXED}: the index has no anchor of ${single()}, and the ${bound + 1} blocks`));
    const lookup = await service(bound).lookupHash(net.h("never anchored"));
    expect(lookup.anchored).to.equal(false);
    expect(lookup.summary).to.match(/not indexed, so this answer does not say whether it was anchored/);
    expect(lookup.summary).to.not.match(/never anchored/);
    expect(lookup.integrity.agreesWithIndex).to.equal(false);
  });
});
