// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Trade orders: purchase order to delivery
/// @notice Created (buyer) -> Accepted (supplier) -> Shipped (supplier, shipping document hash)
/// -> Delivered (buyer confirms receipt) -> Completed (buyer accepts the goods).
/// Cancelled: by either party before shipment. Disputed: by the buyer after shipment; the buyer
/// withdraws it or the operator resolves it, which returns the order to the state it was disputed from.
interface ITradeOrders {
    enum OrderStatus {
        None,
        Created,
        Accepted,
        Shipped,
        Delivered,
        Completed,
        Cancelled,
        Disputed
    }

    struct Order {
        address buyer;
        uint40 deliveryDue;
        uint40 deliveredAt;
        OrderStatus status;
        OrderStatus disputedFrom;
        address supplier;
        uint96 amount;
    }

    /// @notice The creation event carries the whole record, so an indexer never calls back.
    /// @param orderId The order.
    /// @param buyer The buyer.
    /// @param supplier The supplier.
    /// @param amount Minor units of the settlement token.
    /// @param documentHash The document's sha256.
    /// @param deliveryDue Agreed delivery date (block time).
    /// @param createdAt Block time of creation.
    event OrderCreated(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed supplier,
        uint96 amount,
        bytes32 documentHash,
        uint40 deliveryDue,
        uint40 createdAt
    );
    /// @notice The supplier accepted the order.
    /// @param orderId The order.
    /// @param supplier The supplier.
    /// @param at Block time in seconds.
    event OrderAccepted(uint256 indexed orderId, address indexed supplier, uint40 at);
    /// @notice The supplier shipped the order.
    /// @param orderId The order.
    /// @param supplier The supplier.
    /// @param shippingDocumentHash sha256 of the shipping document (bill of lading).
    /// @param at Block time in seconds.
    event OrderShipped(uint256 indexed orderId, address indexed supplier, bytes32 shippingDocumentHash, uint40 at);
    /// @notice The buyer confirmed delivery.
    /// @param orderId The order.
    /// @param buyer The buyer.
    /// @param at Block time in seconds.
    event OrderDelivered(uint256 indexed orderId, address indexed buyer, uint40 at);
    /// @notice The buyer completed the order.
    /// @param orderId The order.
    /// @param buyer The buyer.
    /// @param at Block time in seconds.
    event OrderCompleted(uint256 indexed orderId, address indexed buyer, uint40 at);
    /// @notice A party cancelled the order before shipment.
    /// @param orderId The order.
    /// @param by Who did it.
    /// @param reasonCode Application-defined reason code.
    /// @param at Block time in seconds.
    event OrderCancelled(uint256 indexed orderId, address indexed by, uint16 reasonCode, uint40 at);
    /// @notice The buyer disputed a shipped or delivered order.
    /// @param orderId The order.
    /// @param buyer The buyer.
    /// @param reasonCode Application-defined reason code.
    /// @param at Block time in seconds.
    event OrderDisputed(uint256 indexed orderId, address indexed buyer, uint16 reasonCode, uint40 at);
    /// @notice A dispute ended: the order is back where it was disputed from.
    /// @param orderId The order.
    /// @param by Who did it.
    /// @param restoredTo The status the order returned to.
    /// @param at Block time in seconds.
    event OrderDisputeResolved(uint256 indexed orderId, address indexed by, OrderStatus restoredTo, uint40 at);

    error TradeOrdersUnknownOrder(uint256 orderId);
    error TradeOrdersInvalidTransition(uint256 orderId, OrderStatus from, OrderStatus to);
    error TradeOrdersUnauthorized(uint256 orderId, address caller);
    error TradeOrdersNotActiveParticipant(address account, uint8 roleMask);
    error TradeOrdersInvalidAmount();
    error TradeOrdersAmountTooLarge(uint256 amount);
    error TradeOrdersDueDateInPast(uint256 deliveryDue);
    error TradeOrdersSelfTrade(address account);

    /// @notice An active buyer creates an order for an active supplier.
    /// @param supplier The supplier.
    /// @param amount Minor units of the settlement token.
    /// @param documentHash The document's sha256.
    /// @param deliveryDue Agreed delivery date (block time).
    /// @return orderId The new order's id.
    function createOrder(address supplier, uint256 amount, bytes32 documentHash, uint40 deliveryDue)
        external
        returns (uint256 orderId);

    /// @notice The supplier accepts a Created order.
    /// @param orderId The order.
    function accept(uint256 orderId) external;

    /// @notice The supplier ships an Accepted order with its shipping document hash.
    /// @param orderId The order.
    /// @param shippingDocumentHash sha256 of the shipping document (bill of lading).
    function ship(uint256 orderId, bytes32 shippingDocumentHash) external;

    /// @notice The buyer confirms delivery of a Shipped order.
    /// @param orderId The order.
    function confirmDelivery(uint256 orderId) external;

    /// @notice The buyer completes a Delivered order.
    /// @param orderId The order.
    function complete(uint256 orderId) external;

    /// @notice Cancels a Created or Accepted order (either party).
    /// @param orderId The order.
    /// @param reasonCode Application-defined reason code.
    function cancel(uint256 orderId, uint16 reasonCode) external;

    /// @notice The buyer disputes a Shipped or Delivered order.
    /// @param orderId The order.
    /// @param reasonCode Application-defined reason code.
    function dispute(uint256 orderId, uint16 reasonCode) external;

    /// @notice Ends a dispute (the buyer or the arbiter), restoring the status it was disputed from.
    /// @param orderId The order.
    function resolveDispute(uint256 orderId) external;

    /// @notice The order's stored record.
    /// @param orderId The order.
    /// @return The record (status None for an unknown order).
    function getOrder(uint256 orderId) external view returns (Order memory);

    /// @notice How many orders were created (the last id).
    /// @return The number of orders.
    function orderCount() external view returns (uint256);

    /// @notice The order's status alone (cheaper than getOrder for a caller that needs only that).
    /// @param orderId The order.
    /// @return status None for an unknown order.
    function statusOf(uint256 orderId) external view returns (OrderStatus status);
}
