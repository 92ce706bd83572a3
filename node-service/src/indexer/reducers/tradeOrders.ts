/** TradeOrders events -> orders (lifecycle, cancellation, disputes) and the per-party order lists. */
import { ORDER_STATUSES, type OrderEntity } from "../../domain/entities";
import { appended, push, put } from "../../domain/mutations";
import { addr, big, documentPush, enumName, hex, id, must, num, type Reducer } from "./common";
import { NO_ITEMS } from "../../domain/intern";

export const reduceTradeOrders: Reducer = (state, ev) => {
  const a = ev.args;
  if (ev.name === "OrderCreated") {
    const order: OrderEntity = {
      id: id(a.orderId),
      buyer: addr(a.buyer),
      supplier: addr(a.supplier),
      amount: big(a.amount),
      documentHash: hex(a.documentHash),
      deliveryDue: num(a.deliveryDue),
      createdAt: num(a.createdAt),
      status: "Created",
      disputes: NO_ITEMS,
      events: [ev.ref],
    };
    return [
      put("orders", order.id, order),
      push("ordersByParty", order.buyer, order.id),
      push("ordersByParty", order.supplier, order.id),
      push("ordersByDocument", order.documentHash.toLowerCase(), order.id),
    ];
  }
  if (!ev.name.startsWith("Order")) return []; // AccessControl role events: kept in eventsByTx only

  const o = must(state.orders[id(a.orderId)], `order ${id(a.orderId)}`, ev);
  const at = num(a.at);
  const next: OrderEntity = { ...o, events: appended(o.events, ev.ref) };
  switch (ev.name) {
    case "OrderAccepted":
      Object.assign(next, { status: "Accepted", acceptedAt: at });
      break;
    case "OrderShipped":
      Object.assign(next, { status: "Shipped", shippedAt: at, shippingDocumentHash: hex(a.shippingDocumentHash) });
      break;
    case "OrderDelivered":
      Object.assign(next, { status: "Delivered", deliveredAt: at });
      break;
    case "OrderCompleted":
      Object.assign(next, { status: "Completed", completedAt: at });
      break;
    case "OrderCancelled":
      Object.assign(next, { status: "Cancelled", cancelledAt: at, cancelledBy: addr(a.by), cancelReason: num(a.reasonCode) });
      break;
    case "OrderDisputed":
      next.status = "Disputed";
      next.disputes = appended(o.disputes, { at, reasonCode: num(a.reasonCode) });
      break;
    case "OrderDisputeResolved": {
      const restoredTo = enumName(ORDER_STATUSES, a.restoredTo, "order status");
      next.status = restoredTo;
      let open = o.disputes.length - 1;
      while (open >= 0 && o.disputes[open].resolvedAt !== undefined) open--;
      next.disputes = o.disputes.map((d, i) => (i === open ? { ...d, resolvedAt: at, resolvedBy: addr(a.by), restoredTo } : d));
      break;
    }
    default:
      return [];
  }
  if (ev.name === "OrderShipped")
    return [put("orders", next.id, next), ...documentPush("ordersByShippingDocument", next.shippingDocumentHash, next.id)];
  return [put("orders", next.id, next)];
};
