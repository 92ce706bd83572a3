// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ITradeOrders} from "./interfaces/ITradeOrders.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title TradeOrders
/// @notice Purchase-order lifecycle. Two storage slots per order; documents live in events as hashes.
contract TradeOrders is ITradeOrders, AccessControl {
    /// @notice Role that may resolve a buyer's dispute.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice The participant registry that says who is admitted, with which roles, and not suspended.
    IParticipantRegistry public immutable registry;

    uint256 private _orderCount;
    mapping(uint256 orderId => Order) private _orders;

    constructor(IParticipantRegistry registry_, address operator) {
        registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, operator);
        _grantRole(ARBITER_ROLE, operator);
    }

    /// @inheritdoc ITradeOrders
    function createOrder(address supplier, uint256 amount, bytes32 documentHash, uint40 deliveryDue)
        external
        returns (uint256 orderId)
    {
        _requireActive(msg.sender, Roles.BUYER);
        _requireActive(supplier, Roles.SUPPLIER);
        if (supplier == msg.sender) revert TradeOrdersSelfTrade(supplier);
        if (amount == 0) revert TradeOrdersInvalidAmount();
        if (amount > type(uint96).max) revert TradeOrdersAmountTooLarge(amount);
        if (deliveryDue <= block.timestamp) revert TradeOrdersDueDateInPast(deliveryDue);

        orderId = ++_orderCount;
        _orders[orderId] = Order({
            buyer: msg.sender,
            deliveryDue: deliveryDue,
            deliveredAt: 0,
            status: OrderStatus.Created,
            disputedFrom: OrderStatus.None,
            supplier: supplier,
            amount: uint96(amount)
        });
        emit OrderCreated(orderId, msg.sender, supplier, uint96(amount), documentHash, deliveryDue, _now());
    }

    /// @inheritdoc ITradeOrders
    function accept(uint256 orderId) external {
        Order storage o = _order(orderId);
        _onlySupplier(o, orderId);
        _requireActive(msg.sender, Roles.SUPPLIER);
        _transition(o, orderId, OrderStatus.Created, OrderStatus.Accepted);
        emit OrderAccepted(orderId, msg.sender, _now());
    }

    /// @inheritdoc ITradeOrders
    function ship(uint256 orderId, bytes32 shippingDocumentHash) external {
        Order storage o = _order(orderId);
        _onlySupplier(o, orderId);
        _transition(o, orderId, OrderStatus.Accepted, OrderStatus.Shipped);
        emit OrderShipped(orderId, msg.sender, shippingDocumentHash, _now());
    }

    /// @inheritdoc ITradeOrders
    function confirmDelivery(uint256 orderId) external {
        Order storage o = _order(orderId);
        _onlyBuyer(o, orderId);
        _transition(o, orderId, OrderStatus.Shipped, OrderStatus.Delivered);
        o.deliveredAt = _now();
        emit OrderDelivered(orderId, msg.sender, _now());
    }

    /// @inheritdoc ITradeOrders
    function complete(uint256 orderId) external {
        Order storage o = _order(orderId);
        _onlyBuyer(o, orderId);
        _transition(o, orderId, OrderStatus.Delivered, OrderStatus.Completed);
        emit OrderCompleted(orderId, msg.sender, _now());
    }

    /// @inheritdoc ITradeOrders
    function cancel(uint256 orderId, uint16 reasonCode) external {
        Order storage o = _order(orderId);
        if (msg.sender != o.buyer && msg.sender != o.supplier) revert TradeOrdersUnauthorized(orderId, msg.sender);
        OrderStatus from = o.status;
        if (from != OrderStatus.Created && from != OrderStatus.Accepted) {
            revert TradeOrdersInvalidTransition(orderId, from, OrderStatus.Cancelled);
        }
        o.status = OrderStatus.Cancelled;
        emit OrderCancelled(orderId, msg.sender, reasonCode, _now());
    }

    /// @inheritdoc ITradeOrders
    function dispute(uint256 orderId, uint16 reasonCode) external {
        Order storage o = _order(orderId);
        _onlyBuyer(o, orderId);
        OrderStatus from = o.status;
        if (from != OrderStatus.Shipped && from != OrderStatus.Delivered) {
            revert TradeOrdersInvalidTransition(orderId, from, OrderStatus.Disputed);
        }
        o.status = OrderStatus.Disputed;
        o.disputedFrom = from;
        emit OrderDisputed(orderId, msg.sender, reasonCode, _now());
    }

    /// @inheritdoc ITradeOrders
    function resolveDispute(uint256 orderId) external {
        Order storage o = _order(orderId);
        if (msg.sender != o.buyer && !hasRole(ARBITER_ROLE, msg.sender)) {
            revert TradeOrdersUnauthorized(orderId, msg.sender);
        }
        OrderStatus restored = o.disputedFrom;
        _transition(o, orderId, OrderStatus.Disputed, restored);
        o.disputedFrom = OrderStatus.None;
        emit OrderDisputeResolved(orderId, msg.sender, restored, _now());
    }

    /// @inheritdoc ITradeOrders
    function getOrder(uint256 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc ITradeOrders
    function statusOf(uint256 orderId) external view returns (OrderStatus) {
        return _orders[orderId].status;
    }

    /// @inheritdoc ITradeOrders
    function orderCount() external view returns (uint256) {
        return _orderCount;
    }

    function _transition(Order storage o, uint256 orderId, OrderStatus from, OrderStatus to) private {
        if (o.status != from) revert TradeOrdersInvalidTransition(orderId, o.status, to);
        o.status = to;
    }

    function _order(uint256 orderId) private view returns (Order storage o) {
        o = _orders[orderId];
        if (o.status == OrderStatus.None) revert TradeOrdersUnknownOrder(orderId);
    }

    function _onlyBuyer(Order storage o, uint256 orderId) private view {
        if (msg.sender != o.buyer) revert TradeOrdersUnauthorized(orderId, msg.sender);
    }

    function _onlySupplier(Order storage o, uint256 orderId) private view {
        if (msg.sender != o.supplier) revert TradeOrdersUnauthorized(orderId, msg.sender);
    }

    function _requireActive(address account, uint8 roleMask) private view {
        if (!registry.isActiveAs(account, roleMask)) revert TradeOrdersNotActiveParticipant(account, roleMask);
    }

    function _now() private view returns (uint40) {
        return uint40(block.timestamp);
    }
}
