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
    event OrderCreated(
        uint256 indexed orderId,
        address indexed buyer,
        address indexed supplier,
        uint96 amount,
        bytes32 documentHash,
        uint40 deliveryDue,
        uint40 createdAt
    );
    event OrderAccepted(uint256 indexed orderId, address indexed supplier, uint40 at);
    event OrderShipped(uint256 indexed orderId, address indexed supplier, bytes32 shippingDocumentHash, uint40 at);
    event OrderDelivered(uint256 indexed orderId, address indexed buyer, uint40 at);
    event OrderCompleted(uint256 indexed orderId, address indexed buyer, uint40 at);
    event OrderCancelled(uint256 indexed orderId, address indexed by, uint16 reasonCode, uint40 at);
    event OrderDisputed(uint256 indexed orderId, address indexed buyer, uint16 reasonCode, uint40 at);
    event OrderDisputeResolved(uint256 indexed orderId, address indexed by, OrderStatus restoredTo, uint40 at);

    error TradeOrdersUnknownOrder(uint256 orderId);
    error TradeOrdersInvalidTransition(uint256 orderId, OrderStatus from, OrderStatus to);
    error TradeOrdersUnauthorized(uint256 orderId, address caller);
    error TradeOrdersNotActiveParticipant(address account, uint8 roleMask);
    error TradeOrdersInvalidAmount();
    error TradeOrdersAmountTooLarge(uint256 amount);
    error TradeOrdersDueDateInPast(uint256 deliveryDue);
    error TradeOrdersSelfTrade(address account);

    function createOrder(address supplier, uint256 amount, bytes32 documentHash, uint40 deliveryDue)
        external
        returns (uint256 orderId);

    function accept(uint256 orderId) external;

    function ship(uint256 orderId, bytes32 shippingDocumentHash) external;

    function confirmDelivery(uint256 orderId) external;

    function complete(uint256 orderId) external;

    function cancel(uint256 orderId, uint16 reasonCode) external;

    function dispute(uint256 orderId, uint16 reasonCode) external;

    function resolveDispute(uint256 orderId) external;

    function getOrder(uint256 orderId) external view returns (Order memory);

    function orderCount() external view returns (uint256);

    /// @notice The order's status alone (cheaper than getOrder for a caller that needs only that).
    /// @param orderId The order.
    /// @return status None for an unknown order.
    function statusOf(uint256 orderId) external view returns (OrderStatus status);
}
