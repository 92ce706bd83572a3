import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  ACK_TYPES_ETHERS,
  DAY,
  ORDER_AMOUNT,
  OrderStatus,
  ReceivableStatus,
  as,
  confirmedReceivable,
  deployFixture,
  h,
  issueReceivable,
  makeOrder,
  nextTime,
  now,
  receivablesDomainOf,
  signedLoan,
  type Fixture,
} from "./fixture";
import { ROLE, acknowledgmentTypedData } from "../../node-service/src/chain/eip712";
import { invoiceNumberHash } from "../../node-service/src/domain/invoice-number";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

/** The debtor's (or anyone's) EIP-712 acknowledgment of receivable `id`, signed with ethers. */
async function signAck(f: Fixture, signer: HardhatEthersSigner, id: bigint): Promise<string> {
  const r = await f.receivables.getReceivable(id);
  const message = {
    receivableId: id,
    orderId: r.orderId,
    invoiceHash: await f.receivables.invoiceHashOf(id),
    faceValue: r.faceValue,
    maturity: r.maturity,
  };
  return signer.signTypedData(await receivablesDomainOf(f), ACK_TYPES_ETHERS, message);
}

function fingerprint(debtor: string, invoiceNumber: string): string {
  return hre.ethers.keccak256(
    hre.ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [debtor, invoiceNumberHash(invoiceNumber)]),
  );
}

describe("Receivables", () => {
  describe("issue", () => {
    it("mints a receivable to the supplier against a delivered order, owed by the buyer", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      const maturity = (await now()) + 60 * DAY;
      const at = await nextTime();
      await expect(as(f.receivables, f.supplier).issue(orderId, h("invoice.pdf"), h("INV-1"), 400_000n, maturity))
        .to.emit(f.receivables, "ReceivableIssued")
        .withArgs(1n, f.supplier.address, f.buyer.address, orderId, 400_000n, maturity, h("invoice.pdf"), h("INV-1"), at);
      expect(await f.receivables.ownerOf(1n)).to.equal(f.supplier.address);
      const r = await f.receivables.getReceivable(1n);
      expect(r.debtor).to.equal(f.buyer.address);
      expect(r.status).to.equal(ReceivableStatus.Issued);
      expect(r.faceValue).to.equal(400_000n);
      expect(r.maturity).to.equal(BigInt(maturity));
      expect(r.orderId).to.equal(orderId);
      expect(await f.receivables.invoicedAmount(orderId)).to.equal(400_000n);
      expect(await f.receivables.invoiceHashOf(1n)).to.equal(h("invoice.pdf"));
    });

    it("accepts a completed order too", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f, { until: OrderStatus.Completed });
      await expect(issueReceivable(f, { orderId })).to.eventually.equal(1n);
    });

    it("refuses an issuer that is not the order's supplier", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      await expect(as(f.receivables, f.supplier2).issue(orderId, h("i"), h("INV"), 1n, (await now()) + DAY))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotOrderSupplier")
        .withArgs(orderId, f.supplier2.address);
    });

    it("refuses an order that is not delivered yet, or disputed", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f, { until: OrderStatus.Shipped });
      const maturity = (await now()) + DAY;
      await expect(as(f.receivables, f.supplier).issue(orderId, h("i"), h("INV"), 1n, maturity))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOrderNotDelivered")
        .withArgs(orderId, OrderStatus.Shipped);
      await as(f.orders, f.buyer).dispute(orderId, 1);
      await expect(as(f.receivables, f.supplier).issue(orderId, h("i"), h("INV"), 1n, maturity))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOrderNotDelivered")
        .withArgs(orderId, OrderStatus.Disputed);
    });

    it("refuses a zero face value and a maturity not in the future", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      const s = as(f.receivables, f.supplier);
      await expect(s.issue(orderId, h("i"), h("INV"), 0n, (await now()) + DAY)).to.be.revertedWithCustomError(
        f.receivables,
        "ReceivablesInvalidAmount",
      );
      const past = await now();
      await expect(s.issue(orderId, h("i"), h("INV"), 1n, past))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesMaturityInPast")
        .withArgs(past);
    });

    it("refuses over-issuing against an order, naming what is still available", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      await issueReceivable(f, { orderId, faceValue: 700_000n });
      await expect(as(f.receivables, f.supplier).issue(orderId, h("i"), h("INV-X"), 300_001n, (await now()) + DAY))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesExceedsOrder")
        .withArgs(orderId, 300_000n, 300_001n);
      await issueReceivable(f, { orderId, faceValue: 300_000n });
      expect(await f.receivables.invoicedAmount(orderId)).to.equal(ORDER_AMOUNT);
    });

    it("refuses a second receivable for an invoice already issued (same debtor and number), whoever issues it", async () => {
      const f = await loadFixture(deployFixture);
      const first = await issueReceivable(f, { faceValue: 250_000n, invoice: "INV-DUP" });
      const fp = fingerprint(f.buyer.address, "INV-DUP");
      // Same supplier, another order of the same buyer.
      const order2 = await makeOrder(f);
      await expect(
        as(f.receivables, f.supplier).issue(order2, h("other file"), invoiceNumberHash("INV-DUP"), 250_000n, (await now()) + DAY),
      )
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fp, first);
      // Another supplier of the same buyer presenting the same invoice.
      const order3 = await makeOrder(f, { supplier: f.supplier2 });
      await expect(as(f.receivables, f.supplier2).issue(order3, h("copy"), invoiceNumberHash("INV-DUP"), 250_000n, (await now()) + DAY))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fp, first);
    });

    it("refuses the same invoice again with the amount changed by 0.01 or the number re-spelled (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      const first = await issueReceivable(f, { faceValue: 250_000n, invoice: "INV-2026-0042" });
      const fp = fingerprint(f.buyer.address, "INV-2026-0042");
      const order2 = await makeOrder(f);
      const maturity = (await now()) + 60 * DAY;
      const issue = (number: string, amount: bigint, file: string) =>
        as(f.receivables, f.supplier).issue(order2, h(file), invoiceNumberHash(number), amount, maturity);
      await expect(issue("INV-2026-0042", 250_001n, "f1"))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fp, first);
      await expect(issue("INV-2026-0042 ", 250_000n, "f2"))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fp, first);
      await expect(issue(" inv-2026-0042", 250_000n, "f3"))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fp, first);
    });

    it("refuses an invoice document already behind another receivable, under any number (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      const first = await issueReceivable(f, { faceValue: 250_000n, invoice: "INV-A" });
      const order2 = await makeOrder(f);
      const file = h("invoice file INV-A");
      await expect(as(f.receivables, f.supplier).issue(order2, file, invoiceNumberHash("INV-B"), 250_000n, (await now()) + DAY))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoiceDocument")
        .withArgs(file, first);
    });

    it("releases the invoice number and document of a cancelled receivable, so the corrected invoice can be issued (attack of issue 11)", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      const wrong = await issueReceivable(f, { orderId, faceValue: 250_000n, invoice: "INV-FIX" });
      await as(f.receivables, f.buyer).cancel(wrong, 11);
      const corrected = await issueReceivable(f, { orderId, faceValue: 240_000n, invoice: "INV-FIX" });
      expect(corrected).to.equal(wrong + 1n);
      // The corrected one holds the number again.
      await expect(issueReceivable(f, { orderId, faceValue: 1n, invoice: "INV-FIX" }))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesDuplicateInvoice")
        .withArgs(fingerprint(f.buyer.address, "INV-FIX"), corrected);
    });

    it("accepts the same invoice number owed by another debtor", async () => {
      const f = await loadFixture(deployFixture);
      await issueReceivable(f, { faceValue: 250_000n, invoice: "INV-7" });
      const order2 = await makeOrder(f, { buyer: f.buyer2 });
      await as(f.receivables, f.supplier).issue(
        order2,
        h("buyer2's own invoice file"),
        invoiceNumberHash("INV-7"),
        250_000n,
        (await now()) + DAY,
      );
      const id = (await f.receivables.receivableCount()) as bigint;
      expect((await f.receivables.getReceivable(id)).debtor).to.equal(f.buyer2.address);
    });
  });

  describe("acknowledgment", () => {
    it("is confirmed when the debtor acknowledges by transaction (empty signature in the event)", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      const at = await nextTime();
      await expect(as(f.receivables, f.buyer).acknowledge(id))
        .to.emit(f.receivables, "ReceivableAcknowledged")
        .withArgs(id, f.buyer.address, f.buyer.address, "0x", at);
      expect((await f.receivables.getReceivable(id)).status).to.equal(ReceivableStatus.Confirmed);
    });

    it("refuses an acknowledgment by anyone but the debtor, and a second one", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      await expect(as(f.receivables, f.supplier).acknowledge(id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnauthorized")
        .withArgs(id, f.supplier.address);
      await as(f.receivables, f.buyer).acknowledge(id);
      await expect(as(f.receivables, f.buyer).acknowledge(id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Confirmed);
      await expect(as(f.receivables, f.buyer).acknowledge(99n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnknownReceivable")
        .withArgs(99n);
    });

    it("accepts the debtor's EIP-712 signature (ethers) submitted by anyone, and keeps the signature in the event", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      const sig = await signAck(f, f.buyer, id);
      const at = await nextTime();
      await expect(as(f.receivables, f.outsider).acknowledgeWithSignature(id, sig))
        .to.emit(f.receivables, "ReceivableAcknowledged")
        .withArgs(id, f.buyer.address, f.outsider.address, sig, at);
      expect((await f.receivables.getReceivable(id)).status).to.equal(ReceivableStatus.Confirmed);
      await expect(as(f.receivables, f.outsider).acknowledgeWithSignature(id, sig))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Confirmed);
    });

    it("accepts the debtor's signature made with viem from the shared typed data", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      const r = await f.receivables.getReceivable(id);
      const [, buyerClient] = await hre.viem.getWalletClients();
      expect(buyerClient.account.address.toLowerCase()).to.equal(f.buyer.address.toLowerCase());
      const typed = acknowledgmentTypedData(f.chainId, (await f.receivables.getAddress()) as `0x${string}`, {
        receivableId: id,
        orderId: r.orderId,
        invoiceHash: (await f.receivables.invoiceHashOf(id)) as `0x${string}`,
        faceValue: r.faceValue,
        maturity: r.maturity,
      });
      const sig = await buyerClient.signTypedData(typed);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(id, sig))
        .to.emit(f.receivables, "ReceivableAcknowledged")
        .withArgs(id, f.buyer.address, f.supplier.address, sig, (v: bigint) => v > 0n);
    });

    it("refuses a signature by someone other than the debtor, and one made for another receivable", async () => {
      const f = await loadFixture(deployFixture);
      const a = await issueReceivable(f);
      const b = await issueReceivable(f);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(a, await signAck(f, f.supplier, a)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidAcknowledgment")
        .withArgs(a, f.buyer.address);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(a, await signAck(f, f.buyer, b)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidAcknowledgment")
        .withArgs(a, f.buyer.address);
    });

    it("accepts an acknowledgment signed for a contract-wallet debtor (ERC-1271) and refuses a wallet that answers wrongly", async () => {
      const f = await loadFixture(deployFixture);
      await f.registry.setRoles(f.walletAddress, ROLE.BUYER);
      const wallet = as(f.wallet, f.walletOwner);
      const ordersAddr = await f.orders.getAddress();
      const due = (await now()) + 30 * DAY;
      await wallet.execute(
        ordersAddr,
        f.orders.interface.encodeFunctionData("createOrder", [f.supplier.address, ORDER_AMOUNT, h("po"), due]),
      );
      const orderId = (await f.orders.orderCount()) as bigint;
      await as(f.orders, f.supplier).accept(orderId);
      await as(f.orders, f.supplier).ship(orderId, h("bl"));
      await wallet.execute(ordersAddr, f.orders.interface.encodeFunctionData("confirmDelivery", [orderId]));
      const a = await issueReceivable(f, { orderId, faceValue: 500_000n });
      const b = await issueReceivable(f, { orderId, faceValue: 500_000n });
      expect((await f.receivables.getReceivable(a)).debtor).to.equal(f.walletAddress);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(a, await signAck(f, f.walletOwner, a)))
        .to.emit(f.receivables, "ReceivableAcknowledged")
        .withArgs(
          a,
          f.walletAddress,
          f.supplier.address,
          (s: string) => s.length === 132,
          (v: bigint) => v > 0n,
        );
      await wallet.setLie(true);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(b, await signAck(f, f.walletOwner, b)))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidAcknowledgment")
        .withArgs(b, f.walletAddress);
    });

    it("refuses a debtor's signature when the debtor has since been suspended", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      const sig = await signAck(f, f.buyer, id);
      await f.registry.suspend(f.buyer.address, 1);
      await expect(as(f.receivables, f.supplier).acknowledgeWithSignature(id, sig))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.buyer.address, ROLE.BUYER);
    });
  });

  describe("cancellation", () => {
    it("lets the issuer cancel an unconfirmed receivable, burning it and freeing the order's amount", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      const id = await issueReceivable(f, { orderId, faceValue: 600_000n });
      const at = await nextTime();
      await expect(as(f.receivables, f.supplier).cancel(id, 5))
        .to.emit(f.receivables, "ReceivableCancelled")
        .withArgs(id, f.supplier.address, 5, at);
      expect((await f.receivables.getReceivable(id)).status).to.equal(ReceivableStatus.Cancelled);
      await expect(f.receivables.ownerOf(id)).to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken").withArgs(id);
      expect(await f.receivables.invoicedAmount(orderId)).to.equal(0n);
      await issueReceivable(f, { orderId, faceValue: ORDER_AMOUNT });
    });

    it("lets the debtor reject an unconfirmed receivable", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      await expect(as(f.receivables, f.buyer).cancel(id, 9)).to.emit(f.receivables, "ReceivableCancelled");
    });

    it("refuses a cancellation by a third party and of a confirmed receivable", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      await expect(as(f.receivables, f.outsider).cancel(id, 1))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnauthorized")
        .withArgs(id, f.outsider.address);
      await as(f.receivables, f.buyer).acknowledge(id);
      await expect(as(f.receivables, f.supplier).cancel(id, 1))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Confirmed);
    });
  });

  describe("transfer (factoring)", () => {
    it("transfers a confirmed, unpledged receivable to an admitted participant", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id))
        .to.emit(f.receivables, "Transfer")
        .withArgs(f.supplier.address, f.lender2.address, id);
      expect(await f.receivables.ownerOf(id)).to.equal(f.lender2.address);
    });

    it("refuses to transfer an unconfirmed receivable or to a non-participant", async () => {
      const f = await loadFixture(deployFixture);
      const id = await issueReceivable(f);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Issued);
      await as(f.receivables, f.buyer).acknowledge(id);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.outsider.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.outsider.address, 0);
    });

    it("refuses to transfer a pledged receivable, and allows it again once the loan is cancelled", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      const { loanId } = await signedLoan(f, { collateral: [id] });
      expect(await f.receivables.isPledged(id)).to.equal(true);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPledged")
        .withArgs(id, loanId);
      await as(f.loans, f.supplier).cancelAgreement(loanId);
      expect(await f.receivables.isPledged(id)).to.equal(false);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id);
    });

    it("refuses to transfer a fully paid receivable", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await as(f.receivables, f.buyer).pay(id, ORDER_AMOUNT);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Paid);
    });
  });

  describe("split", () => {
    it("splits a confirmed receivable into children that keep debtor, maturity and order and record their lineage", async () => {
      const f = await loadFixture(deployFixture);
      const parent = await confirmedReceivable(f);
      const p = await f.receivables.getReceivable(parent);
      const at = await nextTime();
      const tx = as(f.receivables, f.supplier).split(parent, [600_000n, 400_000n], [f.supplier.address, f.supplier2.address]);
      await expect(tx).to.emit(f.receivables, "ReceivableSplit").withArgs(parent, f.supplier.address, 2n, 2n, at);
      await expect(tx).to.emit(f.receivables, "ReceivableChildCreated").withArgs(2n, parent, f.supplier.address, 600_000n);
      await expect(tx).to.emit(f.receivables, "ReceivableChildCreated").withArgs(3n, parent, f.supplier2.address, 400_000n);
      expect((await f.receivables.getReceivable(parent)).status).to.equal(ReceivableStatus.Split);
      await expect(f.receivables.ownerOf(parent)).to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken");
      expect(await f.receivables.ownerOf(3n)).to.equal(f.supplier2.address);
      for (const child of [2n, 3n]) {
        const c = await f.receivables.getReceivable(child);
        expect(c.debtor).to.equal(p.debtor);
        expect(c.maturity).to.equal(p.maturity);
        expect(c.orderId).to.equal(p.orderId);
        expect(c.status).to.equal(ReceivableStatus.Confirmed);
        expect(await f.receivables.rootOf(child)).to.equal(parent);
        expect(await f.receivables.invoiceHashOf(child)).to.equal(await f.receivables.invoiceHashOf(parent));
      }
    });

    it("walks a two-level lineage back to the original receivable and its order", async () => {
      const f = await loadFixture(deployFixture);
      const root = await confirmedReceivable(f);
      await as(f.receivables, f.supplier).split(root, [500_000n, 500_000n], [f.tier1.address, f.supplier.address]);
      // tier1 splits its child further among its own suppliers.
      await as(f.receivables, f.tier1).split(
        2n,
        [100_000n, 150_000n, 250_000n],
        [f.supplier2.address, f.tier1.address, f.supplier2.address],
      );
      expect(await f.receivables.rootOf(4n)).to.equal(root);
      expect(await f.receivables.rootOf(2n)).to.equal(root);
      expect(await f.receivables.rootOf(6n)).to.equal(root);
      expect(await f.receivables.rootOf(root)).to.equal(root);
      expect((await f.receivables.getReceivable(6n)).orderId).to.equal((await f.receivables.getReceivable(root)).orderId);
      expect(await f.receivables.invoiceHashOf(6n)).to.equal(await f.receivables.invoiceHashOf(root));
    });

    it("refuses children whose face values do not sum to the parent's, fewer than 2 or more than 16, or mismatched holders", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      const s = as(f.receivables, f.supplier);
      const me = f.supplier.address;
      await expect(s.split(id, [600_000n, 300_000n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidSplit")
        .withArgs(2, 900_000n, ORDER_AMOUNT);
      await expect(s.split(id, [ORDER_AMOUNT], [me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidSplit")
        .withArgs(1, 0, ORDER_AMOUNT);
      const many = Array.from({ length: 17 }, () => 1n);
      await expect(
        s.split(
          id,
          many,
          many.map(() => me),
        ),
      )
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidSplit")
        .withArgs(17, 0, ORDER_AMOUNT);
      await expect(s.split(id, [500_000n, 500_000n], [me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidSplit")
        .withArgs(2, 0, ORDER_AMOUNT);
      await expect(s.split(id, [ORDER_AMOUNT, 0n], [me, me])).to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidAmount");
    });

    it("refuses a split by anyone but the holder, of a pledged, partially paid or unconfirmed receivable, and to a non-participant", async () => {
      const f = await loadFixture(deployFixture);
      const me = f.supplier.address;
      const id = await confirmedReceivable(f);
      await expect(as(f.receivables, f.buyer).split(id, [1n, ORDER_AMOUNT - 1n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotHolder")
        .withArgs(id, me, f.buyer.address);
      await expect(as(f.receivables, f.supplier).split(id, [1n, ORDER_AMOUNT - 1n], [me, f.outsider.address]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.outsider.address, 0);
      const { loanId } = await signedLoan(f, { collateral: [id] });
      await expect(as(f.receivables, f.supplier).split(id, [1n, ORDER_AMOUNT - 1n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPledged")
        .withArgs(id, loanId);
      const paid = await confirmedReceivable(f);
      await as(f.receivables, f.buyer).pay(paid, 10n);
      await expect(as(f.receivables, f.supplier).split(paid, [1n, ORDER_AMOUNT - 1n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesPartiallyPaid")
        .withArgs(paid, 10n);
      const issued = await issueReceivable(f);
      await expect(as(f.receivables, f.supplier).split(issued, [1n, ORDER_AMOUNT - 1n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(issued, ReceivableStatus.Issued);
    });

    it("has the debtor pay each child to its own holder", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await as(f.receivables, f.supplier).split(id, [700_000n, 300_000n], [f.supplier.address, f.supplier2.address]);
      await expect(as(f.receivables, f.buyer).pay(3n, 300_000n)).to.changeTokenBalances(
        f.token,
        [f.buyer, f.supplier2, f.supplier],
        [-300_000n, 300_000n, 0n],
      );
      await expect(as(f.receivables, f.buyer).pay(2n, 700_000n)).to.changeTokenBalances(
        f.token,
        [f.buyer, f.supplier],
        [-700_000n, 700_000n],
      );
      expect((await f.receivables.getReceivable(2n)).status).to.equal(ReceivableStatus.Paid);
      expect((await f.receivables.getReceivable(3n)).status).to.equal(ReceivableStatus.Paid);
      await expect(as(f.receivables, f.buyer).pay(id, 1n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Split);
    });
  });

  describe("payment", () => {
    it("records partial payments to the holder and marks the receivable paid when complete", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await time.increase(10 * DAY);
      let at = await nextTime();
      await expect(as(f.receivables, f.buyer).pay(id, 400_000n))
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(id, f.buyer.address, f.supplier.address, 400_000n, 0n, 0n, 400_000n, false, at);
      at = await nextTime();
      const tx = as(f.receivables, f.buyer).pay(id, 600_000n);
      await expect(tx)
        .to.emit(f.receivables, "ReceivablePaid")
        .withArgs(id, f.buyer.address, f.supplier.address, 600_000n, 0n, 0n, ORDER_AMOUNT, true, at);
      await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.supplier], [-600_000n, 600_000n]);
      const r = await f.receivables.getReceivable(id);
      expect(r.paid).to.equal(ORDER_AMOUNT);
      expect(r.status).to.equal(ReceivableStatus.Paid);
      await expect(as(f.receivables, f.buyer).pay(id, 1n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(id, ReceivableStatus.Paid);
    });

    it("pays the current holder after a transfer", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.lender2.address, id);
      await expect(as(f.receivables, f.buyer).pay(id, ORDER_AMOUNT)).to.changeTokenBalances(
        f.token,
        [f.buyer, f.lender2, f.supplier],
        [-ORDER_AMOUNT, ORDER_AMOUNT, 0n],
      );
    });

    it("refuses a payment by anyone but the debtor, of an unconfirmed receivable, of zero and above what is outstanding", async () => {
      const f = await loadFixture(deployFixture);
      const issued = await issueReceivable(f);
      await expect(as(f.receivables, f.buyer).pay(issued, 1n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesInvalidStatus")
        .withArgs(issued, ReceivableStatus.Issued);
      const id = await confirmedReceivable(f);
      await expect(as(f.receivables, f.supplier).pay(id, 1n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnauthorized")
        .withArgs(id, f.supplier.address);
      await expect(as(f.receivables, f.buyer).pay(id, 0n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOverpayment")
        .withArgs(id, ORDER_AMOUNT, 0n);
      await as(f.receivables, f.buyer).pay(id, 999_000n);
      await expect(as(f.receivables, f.buyer).pay(id, 1_001n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOverpayment")
        .withArgs(id, 1_000n, 1_001n);
      await expect(as(f.receivables, f.buyer).pay(77n, 1n))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesUnknownReceivable")
        .withArgs(77n);
    });
  });

  describe("disputes, suspension and lineage (attacks of issue 11)", () => {
    it("refuses to pledge or split a receivable while the buyer disputes its order, and allows both once the dispute is withdrawn", async () => {
      const f = await loadFixture(deployFixture);
      const orderId = await makeOrder(f);
      const id = await confirmedReceivable(f, { orderId });
      await as(f.orders, f.buyer).dispute(orderId, 3);
      const me = f.supplier.address;
      await expect(as(f.receivables, f.supplier).split(id, [1n, ORDER_AMOUNT - 1n], [me, me]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOrderDisputed")
        .withArgs(id, orderId);
      await expect(signedLoan(f, { collateral: [id] }))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOrderDisputed")
        .withArgs(id, orderId);
      await as(f.orders, f.buyer).resolveDispute(orderId);
      await signedLoan(f, { collateral: [id] });
      expect(await f.receivables.isPledged(id)).to.equal(true);
    });

    it("stops a suspended holder, and a suspended operator of an active holder, from transferring or splitting", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await f.registry.suspend(f.supplier.address, 1);
      await expect(as(f.receivables, f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.supplier.address, 0);
      await expect(as(f.receivables, f.supplier).split(id, [1n, ORDER_AMOUNT - 1n], [f.supplier.address, f.supplier.address]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.supplier.address, 0);
      await f.registry.reinstate(f.supplier.address);
      // An operator the holder approved is suspended: it cannot move the holder's receivable.
      await as(f.receivables, f.supplier).approve(f.tier1.address, id);
      await f.registry.suspend(f.tier1.address, 1);
      await expect(as(f.receivables, f.tier1).transferFrom(f.supplier.address, f.supplier2.address, id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesNotActiveParticipant")
        .withArgs(f.tier1.address, 0);
      await f.registry.reinstate(f.tier1.address);
      await as(f.receivables, f.tier1).transferFrom(f.supplier.address, f.supplier2.address, id);
      expect(await f.receivables.ownerOf(id)).to.equal(f.supplier2.address);
    });

    it("still lets a debtor pay a suspended holder: suspension stops new acts, never the settlement of a debt", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await f.registry.suspend(f.supplier.address, 1);
      await f.registry.suspend(f.buyer.address, 1);
      await expect(as(f.receivables, f.buyer).pay(id, 1_000n)).to.changeTokenBalances(f.token, [f.buyer, f.supplier], [-1_000n, 1_000n]);
    });

    it("finds the root of a deep lineage in one read: invoiceHashOf costs the same at depth 1 and depth 12", async () => {
      const f = await loadFixture(deployFixture);
      const root = await confirmedReceivable(f);
      let id = root;
      let face = ORDER_AMOUNT;
      const me = f.supplier.address;
      const gasAt: bigint[] = [];
      for (let depth = 1; depth <= 12; depth++) {
        const first = (await as(f.receivables, f.supplier).split.staticCall(id, [1n, face - 1n], [me, me])) as bigint;
        await as(f.receivables, f.supplier).split(id, [1n, face - 1n], [me, me]);
        id = first + 1n;
        face -= 1n;
        expect(await f.receivables.rootOf(id)).to.equal(root);
        gasAt.push(await f.receivables.invoiceHashOf.estimateGas(id));
      }
      expect(await f.receivables.invoiceHashOf(id)).to.equal(await f.receivables.invoiceHashOf(root));
      expect(gasAt[11]).to.equal(gasAt[0]);
    });
  });

  describe("wiring", () => {
    it("lets only LoanAgreements pledge", async () => {
      const f = await loadFixture(deployFixture);
      const id = await confirmedReceivable(f);
      await expect(as(f.receivables, f.supplier).pledge(id, 1n, f.supplier.address))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOnlyLoanAgreements")
        .withArgs(f.supplier.address);
      await expect(as(f.receivables, f.lender).pledge(id, 1n, f.supplier.address))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesOnlyLoanAgreements")
        .withArgs(f.lender.address);
    });

    it("wires LoanAgreements once, by the admin only", async () => {
      const f = await loadFixture(deployFixture);
      const loans = await f.loans.getAddress();
      expect(await f.receivables.loanAgreements()).to.equal(loans);
      await expect(f.receivables.setLoanAgreements(f.outsider.address))
        .to.be.revertedWithCustomError(f.receivables, "ReceivablesLoanAgreementsAlreadySet")
        .withArgs(loans);
      await expect(as(f.receivables, f.buyer).setLoanAgreements(f.outsider.address))
        .to.be.revertedWithCustomError(f.receivables, "AccessControlUnauthorizedAccount")
        .withArgs(f.buyer.address, hre.ethers.ZeroHash);
    });

    it("reports ERC-721 and AccessControl interfaces", async () => {
      const f = await loadFixture(deployFixture);
      expect(await f.receivables.supportsInterface("0x80ac58cd")).to.equal(true);
      expect(await f.receivables.supportsInterface("0x7965db0b")).to.equal(true);
      expect(await f.receivables.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});
