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

    /// @notice A supplier issued a receivable against a delivered order.
    /// @param receivableId The receivable.
    /// @param supplier The supplier.
    /// @param debtor Who owes the receivable (the order's buyer).
    /// @param orderId The order.
    /// @param faceValue Amount owed, in minor units.
    /// @param maturity Block time the amount is due.
    /// @param invoiceHash sha256 of the invoice document (one live receivable per document).
    /// @param invoiceNumberHash sha256 of the normalized invoice number (one live receivable per debtor and number).
    /// @param issuedAt Block time of issue.
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
    /// @param receivableId The receivable.
    /// @param debtor Who owes the receivable (the order's buyer).
    /// @param submitter Who sent the transaction.
    /// @param signature The signature.
    /// @param at Block time in seconds.
    event ReceivableAcknowledged(uint256 indexed receivableId, address indexed debtor, address submitter, bytes signature, uint40 at);
    /// @notice An Issued receivable was cancelled by its issuer or rejected by its debtor, and burned.
    /// @param receivableId The receivable.
    /// @param by Who did it.
    /// @param reasonCode Application-defined reason code.
    /// @param at Block time in seconds.
    event ReceivableCancelled(uint256 indexed receivableId, address indexed by, uint16 reasonCode, uint40 at);
    /// @notice A holder split a receivable into children.
    /// @param parentId The receivable that was split.
    /// @param holder The receivable's holder.
    /// @param firstChildId Id of the first child; the others follow consecutively.
    /// @param childCount How many children were created.
    /// @param at Block time in seconds.
    event ReceivableSplit(uint256 indexed parentId, address indexed holder, uint256 firstChildId, uint256 childCount, uint40 at);
    /// @notice One child of a split.
    /// @param receivableId The child.
    /// @param parentId The receivable that was split.
    /// @param holder The receivable's holder.
    /// @param faceValue Amount owed, in minor units.
    event ReceivableChildCreated(uint256 indexed receivableId, uint256 indexed parentId, address indexed holder, uint96 faceValue);
    /// @notice A receivable was pledged to a loan.
    /// @param receivableId The receivable.
    /// @param loanId The loan.
    /// @param holder The receivable's holder.
    event ReceivablePledged(uint256 indexed receivableId, uint256 indexed loanId, address indexed holder);
    /// @notice One payment by the debtor: `toLoan` went to the pledged loan's lender, the rest to `holder`.
    /// @param receivableId The receivable.
    /// @param debtor Who owes the receivable (the order's buyer).
    /// @param holder The receivable's holder.
    /// @param amount This payment, in minor units.
    /// @param toLoan The part of `amount` that went to the pledged loan's lender.
    /// @param loanId The loan paid (0 when nothing went to a loan).
    /// @param paidTotal Total paid on the receivable so far.
    /// @param fullyPaid True when this payment completed the receivable.
    /// @param at Block time in seconds.
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
    /// @notice The loan contract was wired (once).
    /// @param loanAgreements The loan contract.
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

    /// @notice Issues a receivable against a delivered order (the order's supplier, active).
    /// @param orderId The order.
    /// @param invoiceHash sha256 of the invoice document (one live receivable per document).
    /// @param invoiceNumberHash sha256 of the normalized invoice number (one live receivable per debtor and number).
    /// @param faceValue Amount owed, in minor units.
    /// @param maturity Block time the amount is due.
    /// @return receivableId The new receivable's id.
    function issue(uint256 orderId, bytes32 invoiceHash, bytes32 invoiceNumberHash, uint256 faceValue, uint40 maturity)
        external
        returns (uint256 receivableId);

    /// @notice The debtor confirms an Issued receivable by transaction.
    /// @param receivableId The receivable.
    function acknowledge(uint256 receivableId) external;

    /// @notice Confirms an Issued receivable with the debtor's EIP-712 signature (anyone may submit).
    /// @param receivableId The receivable.
    /// @param signature The signature.
    function acknowledgeWithSignature(uint256 receivableId, bytes calldata signature) external;

    /// @notice Cancels an Issued receivable (its issuer-holder or its debtor), burning it and freeing the order amount, invoice number and document.
    /// @param receivableId The receivable.
    /// @param reasonCode Application-defined reason code.
    function cancel(uint256 receivableId, uint16 reasonCode) external;

    /// @notice Splits a Confirmed, unpledged, unpaid receivable of an undisputed order into children (holder only).
    /// @param receivableId The receivable.
    /// @param faceValues Each child's face value; they sum to the parent's.
    /// @param holders Each child's holder (active participants).
    /// @return firstChildId The first child's id; the others follow consecutively.
    function split(uint256 receivableId, uint96[] calldata faceValues, address[] calldata holders)
        external
        returns (uint256 firstChildId);

    /// @notice The debtor pays `amount`: first to the pledged disbursed loan (up to what is owed), the rest to the holder.
    /// @param receivableId The receivable.
    /// @param amount Minor units of the settlement token.
    function pay(uint256 receivableId, uint256 amount) external;

    /// @notice Called by LoanAgreements when an agreement is recorded.
    /// @param receivableId The receivable.
    /// @param loanId The loan.
    /// @param borrower Who must hold the receivable.
    function pledge(uint256 receivableId, uint256 loanId, address borrower) external;

    /// @notice The receivable's stored record.
    /// @param receivableId The receivable.
    /// @return The record (status None for an unknown receivable).
    function getReceivable(uint256 receivableId) external view returns (Receivable memory);

    /// @notice Whether the receivable is pledged to a live (Signed, Active or Defaulted) loan.
    /// @param receivableId The receivable.
    /// @return True when pledged to a live loan.
    function isPledged(uint256 receivableId) external view returns (bool);
}
