/**
 * Issue 17: what a document hash is evidence of, and an order's receivables, are keyed reads of the
 * index's lists (ordersByDocument, ordersByShippingDocument, receivablesByInvoice, loansByDocument,
 * receivablesByOrder) instead of a walk over every order, receivable and loan at each lookup. They must
 * answer exactly what that walk answers: checked here against the walk itself, for every hash and every
 * order of a real history (purchase orders, one reused; shipping documents; invoices with split
 * children, which share their root's hash; a loan agreement), indexed by the real indexer.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { zeroHash, type Hex } from "viem";
import { createEvidenceService } from "../../node-service/src/evidence/lookup";
import { stateReader } from "../../node-service/src/store/index-reader";
import { createIndexer, type Indexer } from "../../node-service/src/indexer/indexer";
import { createLowdbIndexStore } from "../../node-service/src/store/index-store";
import {
  createOrder,
  generateHistory,
  issueConfirmedReceivable,
  fulfilOrder,
  send,
  signAndSubmitAgreement,
} from "../../scripts/lib/chain-helpers";
import { walkedOrderReceivables, walkedUses } from "../../scripts/lib/evidence-walk";
import { admittedNetwork, hardhatNetwork } from "./service-processes";

describe("evidence lookups by the index's document and order lists (issue 17)", function () {
  this.timeout(120_000);
  let dir: string;
  let indexer: Indexer | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "evidence-index-"));
  });
  after(async () => {
    await indexer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers for every hash and every order exactly what a walk over the whole index answers", async () => {
    const { net, parties } = await admittedNetwork(await hardhatNetwork());
    const { publicClient } = net;
    const { operator, buyer, supplier, lender } = parties;
    await generateHistory(net, { operator, buyer, supplier, lender, orders: 8, anchors: 1, tag: "ev" });
    // A purchase order reused on a second order, an invoice split in three, a loan over one of the parts.
    const reused = await createOrder(net, { buyer, supplier: supplier.account.address, amount: 9_000n, document: "ev:po:0" });
    await fulfilOrder(net, { orderId: reused, buyer, supplier });
    const r = await issueConfirmedReceivable(net, { supplier, buyer, orderId: reused, faceValue: 9_000n, invoiceNumber: "ev:inv:split" });
    const holders = [supplier.account.address, supplier.account.address, lender.account.address];
    await send(net, supplier, "Receivables", "split", [r.receivableId, [3_000n, 3_000n, 3_000n], holders]);
    await signAndSubmitAgreement(net, { borrower: supplier, lender, principal: 2_000n, collateral: [r.receivableId + 1n] });

    indexer = await createIndexer({
      publicClient,
      deployment: net.deployment,
      dataDir: dir,
      store: await createLowdbIndexStore(dir),
      logger: pino({ level: "silent" }),
    });
    await indexer.syncOnce();
    const state = indexer.state();
    const evidence = createEvidenceService({ publicClient, deployment: net.deployment, index: () => stateReader(indexer!.state()) });

    const hashes = new Set<Hex>();
    for (const o of Object.values(state.orders)) for (const h of [o.documentHash, o.shippingDocumentHash]) if (h) hashes.add(h);
    for (const x of Object.values(state.receivables)) hashes.add(x.invoiceHash);
    for (const l of Object.values(state.loans)) hashes.add(l.documentHash);
    hashes.add(zeroHash);
    const kinds = new Set<string>();
    for (const h of hashes) {
      const walked = walkedUses(state, h);
      expect(await evidence.hashUses(h), h).to.deep.equal(walked);
      expect(await evidence.hashUses(h.toUpperCase().replace("0X", "0x") as Hex), `${h} in capitals`).to.deep.equal(walked);
      for (const u of walked) kinds.add(`${u.type}:${u.role}`);
    }
    // The history covers every kind of use, and the reused purchase order is on both orders.
    expect([...kinds].sort()).to.deep.equal([
      "loan:loan agreement",
      "order:purchase order",
      "order:shipping document",
      "receivable:invoice",
    ]);
    const po = await evidence.hashUses(state.orders[reused.toString()].documentHash);
    expect(po.map((u) => u.id))
      .to.have.length(2)
      .and.include(reused.toString());

    // Each order's receivables, the split children included, as the walk finds them.
    for (const id of Object.keys(state.orders))
      expect(state.receivablesByOrder[id] ?? [], `order ${id}`).to.deep.equal(walkedOrderReceivables(state, id));
    expect(state.receivablesByOrder[reused.toString()]).to.have.length(4);
    const lookup = await evidence.lookupOrder(reused.toString());
    expect(lookup.receivables.map((x) => x.id)).to.deep.equal(state.receivablesByOrder[reused.toString()]);
  });
});
