import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, ORDER_AMOUNT, OrderStatus, as, deployFixture, h, makeOrder, nextTime, now } from "./fixture";
import { ROLE } from "../../node-service/src/chain/eip712";

describe("TradeOrders", () => {
  let at = 0;

  describe("creation", () => {
    it("records an order created by a buyer for a supplier, with the whole record in the event", async () => {
      const f = await loadFixture(deployFixture);
      const due = (await now()) + 30 * DAY;
      at = await nextTime();
      const tx = as(f.orders, f.buyer).createOrder(f.supplier.address, ORDER_AMOUNT, h("po-1"), due);
      await expect(tx)
        .to.emit(f.orders, "OrderCreated")
        .withArgs(1n, f.buyer.address, f.supplier.address, ORDER_AMOUNT, h("po-1"), due, at);
      const o = await f.orders.getOrder(1n);
      expect(o.buyer).to.equal(f.buyer.address);
      expect(o.supplier).to.equal(f.supplier.address);
      expect(o.amount).to.equal(ORDER_AMOUNT);
      expect(o.deliveryDue).to.equal(BigInt(due));
      expect(o.status).to.equal(OrderStatus.Created);
      expect(await f.orders.orderCount()).to.equal(1n);
    });

    it("refuses an order from an account without the buyer role", async () => {
      const f = await loadFixture(deployFixture);
      const due = (await now()) + DAY;
      await expect(as(f.orders, f.supplier2).createOrder(f.supplier.address, 1n, h("po"), due))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.supplier2.address, ROLE.BUYER);
      await expect(as(f.orders, f.outsider).createOrder(f.supplier.address, 1n, h("po"), due))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.outsider.address, ROLE.BUYER);
    });

    it("refuses an order to a counterparty without the supplier role", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.orders, f.buyer).createOrder(f.lender.address, 1n, h("po"), (await now()) + DAY))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersNotActiveParticipant")
        .withArgs(f.lender.address, ROLE.SUPPLIER);
    });

    it("refuses an order to oneself", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.orders, f.tier1).createOrder(f.tier1.address, 1n, h("po"), (await now()) + DAY))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersSelfTrade")
        .withArgs(f.tier1.address);
    });

    it("refuses a zero amount, an amount above uint96 and a due date not in the future", async () => {
      const f = await loadFixture(deployFixture);
      const due = (await now()) + DAY;
      const o = as(f.orders, f.buyer);
      await expect(o.createOrder(f.supplier.address, 0n, h("po"), due)).to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidAmount");
      const tooLarge = 2n ** 96n;
      await expect(o.createOrder(f.supplier.address, tooLarge, h("po"), due))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersAmountTooLarge")
        .withArgs(tooLarge);
      const past = await now();
      await expect(o.createOrder(f.supplier.address, 1n, h("po"), past))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersDueDateInPast")
        .withArgs(past);
    });

    it("refuses any transition of an unknown order", async () => {
      const f = await loadFixture(deployFixture);
      await expect(as(f.orders, f.supplier).accept(9n)).to.be.revertedWithCustomError(f.orders, "TradeOrdersUnknownOrder").withArgs(9n);
      await expect(as(f.orders, f.buyer).cancel(9n, 1)).to.be.revertedWithCustomError(f.orders, "TradeOrdersUnknownOrder").withArgs(9n);
    });
  });

  describe("the main path", () => {
    it("goes Created -> Accepted -> Shipped -> Delivered -> Completed, each step by its party with block time", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Created });
      at = await nextTime();
      await expect(as(f.orders, f.supplier).accept(id)).to.emit(f.orders, "OrderAccepted").withArgs(id, f.supplier.address, at);
      at = await nextTime();
      await expect(as(f.orders, f.supplier).ship(id, h("bill of lading")))
        .to.emit(f.orders, "OrderShipped")
        .withArgs(id, f.supplier.address, h("bill of lading"), at);
      await time.increase(DAY);
      const deliveredAt = await nextTime();
      await expect(as(f.orders, f.buyer).confirmDelivery(id))
        .to.emit(f.orders, "OrderDelivered")
        .withArgs(id, f.buyer.address, deliveredAt);
      expect((await f.orders.getOrder(id)).deliveredAt).to.equal(BigInt(deliveredAt));
      at = await nextTime();
      await expect(as(f.orders, f.buyer).complete(id)).to.emit(f.orders, "OrderCompleted").withArgs(id, f.buyer.address, at);
      expect((await f.orders.getOrder(id)).status).to.equal(OrderStatus.Completed);
    });

    it("lets only the supplier accept and ship", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Created });
      await expect(as(f.orders, f.buyer).accept(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.buyer.address);
      await expect(as(f.orders, f.supplier2).accept(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.supplier2.address);
      await as(f.orders, f.supplier).accept(id);
      await expect(as(f.orders, f.buyer).ship(id, h("bl")))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.buyer.address);
    });

    it("lets only the buyer confirm delivery and complete", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Shipped });
      await expect(as(f.orders, f.supplier).confirmDelivery(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.supplier.address);
      await as(f.orders, f.buyer).confirmDelivery(id);
      await expect(as(f.orders, f.supplier).complete(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.supplier.address);
    });

    it("refuses each step from the wrong state, naming from and to", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Created });
      const s = as(f.orders, f.supplier);
      const b = as(f.orders, f.buyer);
      await expect(s.ship(id, h("bl")))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Created, OrderStatus.Shipped);
      await expect(b.confirmDelivery(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Created, OrderStatus.Delivered);
      await s.accept(id);
      await expect(s.accept(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Accepted, OrderStatus.Accepted);
      await s.ship(id, h("bl"));
      await expect(b.complete(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Shipped, OrderStatus.Completed);
    });
  });

  describe("cancellation", () => {
    it("lets the buyer cancel a created order and the supplier cancel an accepted one, with a reason code", async () => {
      const f = await loadFixture(deployFixture);
      const a = await makeOrder(f, { until: OrderStatus.Created });
      at = await nextTime();
      await expect(as(f.orders, f.buyer).cancel(a, 7)).to.emit(f.orders, "OrderCancelled").withArgs(a, f.buyer.address, 7, at);
      const b = await makeOrder(f, { until: OrderStatus.Accepted });
      at = await nextTime();
      await expect(as(f.orders, f.supplier).cancel(b, 3)).to.emit(f.orders, "OrderCancelled").withArgs(b, f.supplier.address, 3, at);
      expect((await f.orders.getOrder(a)).status).to.equal(OrderStatus.Cancelled);
      expect((await f.orders.getOrder(b)).status).to.equal(OrderStatus.Cancelled);
    });

    it("refuses a cancellation after shipment and by anyone not party", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Shipped });
      await expect(as(f.orders, f.buyer).cancel(id, 1))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Shipped, OrderStatus.Cancelled);
      const other = await makeOrder(f, { until: OrderStatus.Created });
      await expect(as(f.orders, f.outsider).cancel(other, 1))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(other, f.outsider.address);
    });

    it("refuses any step of a cancelled order", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Created });
      await as(f.orders, f.buyer).cancel(id, 1);
      await expect(as(f.orders, f.supplier).accept(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Cancelled, OrderStatus.Accepted);
      await expect(as(f.orders, f.buyer).cancel(id, 1))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Cancelled, OrderStatus.Cancelled);
    });
  });

  describe("disputes", () => {
    it("lets the buyer dispute a shipped order and withdraw the dispute, restoring Shipped", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Shipped });
      at = await nextTime();
      await expect(as(f.orders, f.buyer).dispute(id, 42)).to.emit(f.orders, "OrderDisputed").withArgs(id, f.buyer.address, 42, at);
      const o = await f.orders.getOrder(id);
      expect(o.status).to.equal(OrderStatus.Disputed);
      expect(o.disputedFrom).to.equal(OrderStatus.Shipped);
      at = await nextTime();
      await expect(as(f.orders, f.buyer).resolveDispute(id))
        .to.emit(f.orders, "OrderDisputeResolved")
        .withArgs(id, f.buyer.address, OrderStatus.Shipped, at);
      const after = await f.orders.getOrder(id);
      expect(after.status).to.equal(OrderStatus.Shipped);
      expect(after.disputedFrom).to.equal(OrderStatus.None);
    });

    it("lets the operator (arbiter) resolve a dispute of a delivered order, restoring Delivered", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Delivered });
      await as(f.orders, f.buyer).dispute(id, 1);
      at = await nextTime();
      await expect(as(f.orders, f.operator).resolveDispute(id))
        .to.emit(f.orders, "OrderDisputeResolved")
        .withArgs(id, f.operator.address, OrderStatus.Delivered, at);
      await as(f.orders, f.buyer).complete(id);
    });

    it("refuses a dispute before shipment, by the supplier, and a resolution by the supplier", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Accepted });
      await expect(as(f.orders, f.buyer).dispute(id, 1))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Accepted, OrderStatus.Disputed);
      await as(f.orders, f.supplier).ship(id, h("bl"));
      await expect(as(f.orders, f.supplier).dispute(id, 1))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.supplier.address);
      await as(f.orders, f.buyer).dispute(id, 1);
      await expect(as(f.orders, f.supplier).resolveDispute(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersUnauthorized")
        .withArgs(id, f.supplier.address);
    });

    it("refuses to resolve an order that is not disputed", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Shipped });
      await expect(as(f.orders, f.buyer).resolveDispute(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Shipped, OrderStatus.None);
    });

    it("refuses progress of a disputed order until it is resolved", async () => {
      const f = await loadFixture(deployFixture);
      const id = await makeOrder(f, { until: OrderStatus.Shipped });
      await as(f.orders, f.buyer).dispute(id, 1);
      await expect(as(f.orders, f.buyer).confirmDelivery(id))
        .to.be.revertedWithCustomError(f.orders, "TradeOrdersInvalidTransition")
        .withArgs(id, OrderStatus.Disputed, OrderStatus.Delivered);
    });
  });

  it("grants the arbiter role to the operator only", async () => {
    const f = await loadFixture(deployFixture);
    const role = await f.orders.ARBITER_ROLE();
    expect(await f.orders.hasRole(role, f.operator.address)).to.equal(true);
    expect(await f.orders.hasRole(role, f.buyer.address)).to.equal(false);
    expect(role).to.equal(hre.ethers.id("ARBITER_ROLE"));
  });
});
