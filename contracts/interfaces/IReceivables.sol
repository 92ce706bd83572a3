// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Receivables: one ERC-721 token per invoice the buyer owes
/// @notice Issued (supplier, against a delivered order) -> Confirmed (the debtor acknowledges it, by
/// transaction or EIP-712 signature) -> Paid (the debtor pays in the settlement token, in parts).
/// A Confirmed receivable can be transferred (factoring), split into children, and pledged to one
/// live loan at a time (Signed, Active or Defaulted). Issued -> Cancelled by its issuer or rejected by
/// its debtor.
interface IReceivables {
    enum ReceivableStatus {
        None,
        Issued,
        Confirmed,
        Paid,
        Split,
        Cancelled
    }

    struct Receivable {
        address debtor;
        uint40 maturity;
        ReceivableStatus status;
        uint48 pledgedLoanId;
        uint96 faceValue;
        uint96 paid;
        uint64 orderId;
    }

    event ReceivableIssued(
        uint256 indexed receivableId,
        address indexed supplier,
        address indexed debtor,
        uint256 orderId,
        uint96 faceValue,
        uint40 maturity,
        bytes32 invoiceHash,
        bytes32 invoiceNumberHash,
        uint40 issuedAt
    );
    /// @notice `signature` is the debtor's EIP-712 ReceivableAcknowledgment, empty when the debtor sent
    /// the transaction itself. Kept here as evidence.
    event ReceivableAcknowledged(uint256 indexed receivableId, address indexed debtor, address submitter, bytes signature, uint40 at);
    event ReceivableCancelled(uint256 indexed receivableId, address indexed by, uint16 reasonCode, uint40 at);
    event ReceivableSplit(uint256 indexed parentId, address indexed holder, uint256 firstChildId, uint256 childCount, uint40 at);
    event ReceivableChildCreated(uint256 indexed receivableId, uint256 indexed parentId, address indexed holder, uint96 faceValue);
    event ReceivablePledged(uint256 indexed receivableId, uint256 indexed loanId, address indexed holder);
    /// @notice One payment by the debtor: `toLoan` went to the pledged loan's lender, the rest to `holder`.
    event ReceivablePaid(
        uint256 indexed receivableId,
        address indexed debtor,
        address indexed holder,
        uint96 amount,
        uint96 toLoan,
        uint256 loanId,
        uint96 paidTotal,
        bool fullyPaid,
        uint40 at
    );
    event LoanAgreementsSet(address loanAgreements);

    error ReceivablesUnknownReceivable(uint256 receivableId);
    error ReceivablesInvalidStatus(uint256 receivableId, ReceivableStatus status);
    error ReceivablesUnauthorized(uint256 receivableId, address caller);
    error ReceivablesNotActiveParticipant(address account, uint8 roleMask);
    error ReceivablesNotOrderSupplier(uint256 orderId, address caller);
    error ReceivablesOrderNotDelivered(uint256 orderId, uint8 orderStatus);
    error ReceivablesExceedsOrder(uint256 orderId, uint256 available, uint256 faceValue);
    error ReceivablesDuplicateInvoice(bytes32 fingerprint, uint256 existingReceivableId);
    error ReceivablesDuplicateInvoiceDocument(bytes32 invoiceHash, uint256 existingReceivableId);
    error ReceivablesOrderDisputed(uint256 receivableId, uint256 orderId);
    error ReceivablesInvalidAmount();
    error ReceivablesMaturityInPast(uint256 maturity);
    error ReceivablesInvalidAcknowledgment(uint256 receivableId, address debtor);
    error ReceivablesPledged(uint256 receivableId, uint256 loanId);
    error ReceivablesNotHolder(uint256 receivableId, address holder, address caller);
    error ReceivablesOverpayment(uint256 receivableId, uint256 outstanding, uint256 amount);
    error ReceivablesInvalidSplit(uint256 childCount, uint256 sum, uint256 faceValue);
    error ReceivablesPartiallyPaid(uint256 receivableId, uint256 paid);
    error ReceivablesOnlyLoanAgreements(address caller);
    error ReceivablesLoanAgreementsAlreadySet(address loanAgreements);

    function issue(uint256 orderId, bytes32 invoiceHash, bytes32 invoiceNumberHash, uint256 faceValue, uint40 maturity)
        external
        returns (uint256 receivableId);

    function acknowledge(uint256 receivableId) external;

    function acknowledgeWithSignature(uint256 receivableId, bytes calldata signature) external;

    function cancel(uint256 receivableId, uint16 reasonCode) external;

    function split(uint256 receivableId, uint96[] calldata faceValues, address[] calldata holders)
        external
        returns (uint256 firstChildId);

    function pay(uint256 receivableId, uint256 amount) external;

    /// @notice Called by LoanAgreements when an agreement is recorded.
    function pledge(uint256 receivableId, uint256 loanId, address borrower) external;

    function getReceivable(uint256 receivableId) external view returns (Receivable memory);

    function isPledged(uint256 receivableId) external view returns (bool);
}
