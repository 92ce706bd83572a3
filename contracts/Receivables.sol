// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IReceivables} from "./interfaces/IReceivables.sol";
import {ITradeOrders} from "./interfaces/ITradeOrders.sol";
import {ILoanAgreements} from "./interfaces/ILoanAgreements.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Receivables
/// @notice Two storage slots per receivable (plus the invoice hash for an original, the root for a
/// child). A pledge is the loan id in the record; it is live while that loan is live, so closing a
/// loan releases its collateral without a loop.
/// @dev Tokens are minted with `_mint`, not `_safeMint`: every recipient is an admitted participant
/// (checked here), a holder's rights are paid in the settlement token, which any address receives,
/// and an `onERC721Received` callback in the middle of `split` would only add a re-entry point.
contract Receivables is IReceivables, ERC721, EIP712, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice EIP-712 typehash of ReceivableAcknowledgment.
    bytes32 public constant ACKNOWLEDGMENT_TYPEHASH = keccak256(
        "ReceivableAcknowledgment(uint256 receivableId,uint256 orderId,bytes32 invoiceHash,uint256 faceValue,uint256 maturity)"
    );
    /// @notice Most children one split may create.
    uint256 public constant MAX_SPLIT = 16;

    /// @notice The participant registry that says who is admitted, with which roles, and not suspended.
    IParticipantRegistry public immutable registry;
    /// @notice The trade orders receivables are issued against.
    ITradeOrders public immutable orders;
    /// @notice The ERC-20 every amount is paid in (minor units).
    IERC20 public immutable settlementToken;
    /// @notice The loan contract allowed to pledge receivables (set once).
    ILoanAgreements public loanAgreements;

    uint256 private _count;
    mapping(uint256 receivableId => Receivable) private _receivables;
    mapping(uint256 receivableId => bytes32) private _invoiceHash;
    /// @dev The original a child was split from, written once per child so lineage lookups are O(1).
    mapping(uint256 receivableId => uint256) private _rootOf;
    mapping(uint256 orderId => uint256) private _invoiced;
    /// @dev (debtor, normalized invoice number hash) -> receivable; a Cancelled holder frees the key.
    mapping(bytes32 fingerprint => uint256 receivableId) private _byFingerprint;
    /// @dev Invoice document hash -> receivable; a Cancelled holder frees the key.
    mapping(bytes32 invoiceHash => uint256 receivableId) private _byInvoiceHash;

    constructor(IParticipantRegistry registry_, ITradeOrders orders_, IERC20 settlementToken_, address operator)
        ERC721("Trade Receivable", "RCV")
        EIP712("Receivables", "1")
    {
        registry = registry_;
        orders = orders_;
        settlementToken = settlementToken_;
        _grantRole(DEFAULT_ADMIN_ROLE, operator);
    }

    /// @notice Wires the loan contract once, at deployment.
    /// @param loanAgreements_ The loan contract.
    function setLoanAgreements(ILoanAgreements loanAgreements_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(loanAgreements) != address(0)) revert ReceivablesLoanAgreementsAlreadySet(address(loanAgreements));
        loanAgreements = loanAgreements_;
        emit LoanAgreementsSet(address(loanAgreements_));
    }

    /// @inheritdoc IReceivables
    function issue(uint256 orderId, bytes32 invoiceHash, bytes32 invoiceNumberHash, uint256 faceValue, uint40 maturity)
        external
        returns (uint256 receivableId)
    {
        ITradeOrders.Order memory o = orders.getOrder(orderId);
        if (o.supplier != msg.sender) revert ReceivablesNotOrderSupplier(orderId, msg.sender);
        if (o.status != ITradeOrders.OrderStatus.Delivered && o.status != ITradeOrders.OrderStatus.Completed) {
            revert ReceivablesOrderNotDelivered(orderId, uint8(o.status));
        }
        _requireActive(msg.sender, Roles.SUPPLIER);
        if (faceValue == 0) revert ReceivablesInvalidAmount();
        if (maturity <= block.timestamp) revert ReceivablesMaturityInPast(maturity);
        uint256 invoiced = _invoiced[orderId];
        if (faceValue > o.amount - invoiced) revert ReceivablesExceedsOrder(orderId, o.amount - invoiced, faceValue);
        // One receivable per debtor and invoice number, whatever the amount, and per invoice document;
        // a cancelled receivable no longer holds either.
        bytes32 fingerprint = keccak256(abi.encode(o.buyer, invoiceNumberHash));
        uint256 existing = _byFingerprint[fingerprint];
        if (existing != 0 && _receivables[existing].status != ReceivableStatus.Cancelled) {
            revert ReceivablesDuplicateInvoice(fingerprint, existing);
        }
        existing = _byInvoiceHash[invoiceHash];
        if (existing != 0 && _receivables[existing].status != ReceivableStatus.Cancelled) {
            revert ReceivablesDuplicateInvoiceDocument(invoiceHash, existing);
        }

        receivableId = ++_count;
        _invoiced[orderId] = invoiced + faceValue;
        _byFingerprint[fingerprint] = receivableId;
        _byInvoiceHash[invoiceHash] = receivableId;
        _invoiceHash[receivableId] = invoiceHash;
        _receivables[receivableId] = Receivable({
            debtor: o.buyer,
            maturity: maturity,
            status: ReceivableStatus.Issued,
            pledgedLoanId: 0,
            faceValue: uint96(faceValue),
            paid: 0,
            orderId: uint64(orderId)
        });
        emit ReceivableIssued(
            receivableId, msg.sender, o.buyer, orderId, uint96(faceValue), maturity, invoiceHash, invoiceNumberHash, _now()
        );
        _mint(msg.sender, receivableId);
    }

    /// @inheritdoc IReceivables
    function acknowledge(uint256 receivableId) external {
        Receivable storage r = _issued(receivableId);
        if (msg.sender != r.debtor) revert ReceivablesUnauthorized(receivableId, msg.sender);
        _confirm(r, receivableId, "");
    }

    /// @inheritdoc IReceivables
    function acknowledgeWithSignature(uint256 receivableId, bytes calldata signature) external {
        Receivable storage r = _issued(receivableId);
        bytes32 digest = acknowledgmentDigest(receivableId);
        if (!SignatureChecker.isValidSignatureNowCalldata(r.debtor, digest, signature)) {
            revert ReceivablesInvalidAcknowledgment(receivableId, r.debtor);
        }
        _confirm(r, receivableId, signature);
    }

    /// @inheritdoc IReceivables
    function cancel(uint256 receivableId, uint16 reasonCode) external {
        Receivable storage r = _issued(receivableId);
        if (msg.sender != r.debtor && msg.sender != _ownerOf(receivableId)) {
            revert ReceivablesUnauthorized(receivableId, msg.sender);
        }
        r.status = ReceivableStatus.Cancelled;
        _invoiced[r.orderId] -= r.faceValue;
        emit ReceivableCancelled(receivableId, msg.sender, reasonCode, _now());
        _burn(receivableId);
    }

    /// @inheritdoc IReceivables
    function split(uint256 receivableId, uint96[] calldata faceValues, address[] calldata holders)
        external
        returns (uint256 firstChildId)
    {
        Receivable storage parent = _confirmedUnpledged(receivableId);
        address holder = _ownerOf(receivableId);
        if (msg.sender != holder) revert ReceivablesNotHolder(receivableId, holder, msg.sender);
        _requireActive(holder, Roles.ANY);
        if (parent.paid != 0) revert ReceivablesPartiallyPaid(receivableId, parent.paid);
        _requireUndisputed(receivableId, parent.orderId);
        uint256 n = faceValues.length;
        if (n < 2 || n > MAX_SPLIT || holders.length != n) revert ReceivablesInvalidSplit(n, 0, parent.faceValue);
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            if (faceValues[i] == 0) revert ReceivablesInvalidAmount();
            sum += faceValues[i];
        }
        if (sum != parent.faceValue) revert ReceivablesInvalidSplit(n, sum, parent.faceValue);

        parent.status = ReceivableStatus.Split;
        uint256 root = _rootOf[receivableId];
        if (root == 0) root = receivableId;
        firstChildId = _count + 1;
        _count += n;
        emit ReceivableSplit(receivableId, holder, firstChildId, n, _now());
        _burn(receivableId);
        for (uint256 i; i < n; ++i) {
            uint256 childId = firstChildId + i;
            if (holders[i] != holder) _requireActive(holders[i], Roles.ANY);
            _receivables[childId] = Receivable({
                debtor: parent.debtor,
                maturity: parent.maturity,
                status: ReceivableStatus.Confirmed,
                pledgedLoanId: 0,
                faceValue: faceValues[i],
                paid: 0,
                orderId: parent.orderId
            });
            _rootOf[childId] = root;
            emit ReceivableChildCreated(childId, receivableId, holders[i], faceValues[i]);
            _mint(holders[i], childId);
        }
    }

    /// @inheritdoc IReceivables
    function pay(uint256 receivableId, uint256 amount) external {
        Receivable storage r = _existing(receivableId);
        if (msg.sender != r.debtor) revert ReceivablesUnauthorized(receivableId, msg.sender);
        if (r.status != ReceivableStatus.Confirmed) revert ReceivablesInvalidStatus(receivableId, r.status);
        uint256 outstanding = r.faceValue - r.paid;
        if (amount == 0 || amount > outstanding) revert ReceivablesOverpayment(receivableId, outstanding, amount);

        uint96 paidTotal = r.paid + uint96(amount);
        r.paid = paidTotal;
        bool fullyPaid = paidTotal == r.faceValue;
        if (fullyPaid) r.status = ReceivableStatus.Paid;
        address holder = _ownerOf(receivableId);
        uint256 loanId = r.pledgedLoanId;
        address lender;
        uint256 toLoan;
        // Waterfall: the pledged loan's outstanding balance first, the rest to the holder.
        if (loanId != 0) (lender, toLoan) = loanAgreements.applyReceivablePayment(loanId, receivableId, amount);
        emit ReceivablePaid(
            receivableId, msg.sender, holder, uint96(amount), uint96(toLoan), toLoan == 0 ? 0 : loanId, paidTotal, fullyPaid, _now()
        );
        if (toLoan != 0) settlementToken.safeTransferFrom(msg.sender, lender, toLoan);
        if (amount != toLoan) settlementToken.safeTransferFrom(msg.sender, holder, amount - toLoan);
    }

    /// @inheritdoc IReceivables
    function pledge(uint256 receivableId, uint256 loanId, address borrower) external {
        _onlyLoanAgreements();
        Receivable storage r = _confirmedUnpledged(receivableId);
        address holder = _ownerOf(receivableId);
        if (holder != borrower) revert ReceivablesNotHolder(receivableId, holder, borrower);
        _requireUndisputed(receivableId, r.orderId);
        r.pledgedLoanId = uint48(loanId);
        emit ReceivablePledged(receivableId, loanId, holder);
    }

    /// @inheritdoc IReceivables
    function getReceivable(uint256 receivableId) external view returns (Receivable memory) {
        return _receivables[receivableId];
    }

    /// @inheritdoc IReceivables
    function isPledged(uint256 receivableId) external view returns (bool) {
        return _isPledged(_receivables[receivableId]);
    }

    /// @notice The invoice document hash, shared by a receivable and all its split descendants.
    /// @param receivableId The receivable.
    /// @return The invoice document hash.
    function invoiceHashOf(uint256 receivableId) public view returns (bytes32) {
        return _invoiceHash[rootOf(receivableId)];
    }

    /// @notice The original receivable a child was split from (itself for an original): one read,
    /// whatever the depth (the root is stored per child; the parent is in ReceivableChildCreated).
    /// @param receivableId The receivable.
    /// @return The original receivable's id.
    function rootOf(uint256 receivableId) public view returns (uint256) {
        uint256 root = _rootOf[receivableId];
        return root == 0 ? receivableId : root;
    }

    /// @notice How much of an order's amount live receivables already invoice.
    /// @param orderId The order.
    /// @return Minor units invoiced.
    function invoicedAmount(uint256 orderId) external view returns (uint256) {
        return _invoiced[orderId];
    }

    /// @notice How many receivable ids were used (the last id).
    /// @return The number of ids used.
    function receivableCount() external view returns (uint256) {
        return _count;
    }

    /// @notice The EIP-712 digest the debtor signs to acknowledge `receivableId`.
    /// @param receivableId The receivable.
    /// @return The EIP-712 digest.
    function acknowledgmentDigest(uint256 receivableId) public view returns (bytes32) {
        Receivable storage r = _receivables[receivableId];
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ACKNOWLEDGMENT_TYPEHASH, receivableId, r.orderId, _invoiceHash[receivableId], r.faceValue, r.maturity
                )
            )
        );
    }

    /// @notice ERC-165: ERC-721 and AccessControl.
    /// @param interfaceId The ERC-165 interface id.
    /// @return True when supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    /// @dev The one write path of token ownership: a transfer needs a Confirmed, unpledged receivable,
    /// and the holder, the caller (holder or approved operator) and the recipient all active (not
    /// suspended). Nothing, not even a default, moves a pledged one.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) {
            Receivable storage r = _receivables[tokenId];
            if (r.status != ReceivableStatus.Confirmed) revert ReceivablesInvalidStatus(tokenId, r.status);
            if (_isPledged(r)) revert ReceivablesPledged(tokenId, r.pledgedLoanId);
            _requireActive(from, Roles.ANY);
            if (msg.sender != from) _requireActive(msg.sender, Roles.ANY);
            _requireActive(to, Roles.ANY);
        }
        return super._update(to, tokenId, auth);
    }

    function _confirm(Receivable storage r, uint256 receivableId, bytes memory signature) private {
        _requireActive(r.debtor, Roles.BUYER);
        r.status = ReceivableStatus.Confirmed;
        emit ReceivableAcknowledged(receivableId, r.debtor, msg.sender, signature, _now());
    }

    function _isPledged(Receivable storage r) private view returns (bool) {
        uint256 loanId = r.pledgedLoanId;
        return loanId != 0 && loanAgreements.isLive(loanId);
    }

    function _existing(uint256 receivableId) private view returns (Receivable storage r) {
        r = _receivables[receivableId];
        if (r.status == ReceivableStatus.None) revert ReceivablesUnknownReceivable(receivableId);
    }

    function _issued(uint256 receivableId) private view returns (Receivable storage r) {
        r = _existing(receivableId);
        if (r.status != ReceivableStatus.Issued) revert ReceivablesInvalidStatus(receivableId, r.status);
    }

    function _confirmedUnpledged(uint256 receivableId) private view returns (Receivable storage r) {
        r = _existing(receivableId);
        if (r.status != ReceivableStatus.Confirmed) revert ReceivablesInvalidStatus(receivableId, r.status);
        if (_isPledged(r)) revert ReceivablesPledged(receivableId, r.pledgedLoanId);
    }

    function _requireUndisputed(uint256 receivableId, uint256 orderId) private view {
        if (orders.statusOf(orderId) == ITradeOrders.OrderStatus.Disputed) revert ReceivablesOrderDisputed(receivableId, orderId);
    }

    function _onlyLoanAgreements() private view {
        if (msg.sender != address(loanAgreements)) revert ReceivablesOnlyLoanAgreements(msg.sender);
    }

    function _requireActive(address account, uint8 roleMask) private view {
        if (!registry.isActiveAs(account, roleMask)) revert ReceivablesNotActiveParticipant(account, roleMask);
    }

    function _now() private view returns (uint40) {
        return uint40(block.timestamp);
    }
}
