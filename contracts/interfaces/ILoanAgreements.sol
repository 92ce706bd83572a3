// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Loan agreements signed by both parties with EIP-712 and notarized with block time
/// @notice Signed (both signatures recorded, collateral pledged) -> Active (lender disbursed, no later
/// than the signed `disburseBy` and only while no collateral was paid down since signing) -> Repaid
/// (full repayment; collateral released). Active -> Defaulted (declared by the lender after maturity
/// plus the grace period; the collateral stays with the borrower, pledged, and every payment on it
/// still goes to the loan first) -> Recovered (the debt paid in full, by collections or repayments;
/// the collateral is released to the borrower). The lender's total take is capped at `totalDue`;
/// whatever the debtors pay beyond it goes to the borrower. Signed -> Cancelled by either party.
interface ILoanAgreements {
    enum LoanStatus {
        None,
        Signed,
        Active,
        Repaid,
        Defaulted,
        Recovered,
        Cancelled
    }

    /// @notice The EIP-712 message both parties sign. Timestamps are block time in seconds; amounts are
    /// minor units of `currency`, which must be this contract's settlement token. `disburseBy` is the
    /// latest block time of the disbursement. `collateral` is strictly ascending receivable ids.
    struct LoanTerms {
        address borrower;
        address lender;
        address currency;
        uint256 principal;
        uint256 rateBps;
        uint256 start;
        uint256 disburseBy;
        uint256 maturity;
        uint256[] collateral;
        bytes32 documentHash;
        uint256 nonce;
        uint256 deadline;
    }

    struct Loan {
        address borrower;
        uint40 maturity;
        LoanStatus status;
        uint8 collateralCount;
        uint32 rateBps;
        address lender;
        uint96 principal;
        uint88 totalDue;
        uint88 repaid;
        uint40 disbursedAt;
        uint40 disburseBy;
    }

    /// @notice The notarization: the whole signed message, its EIP-712 digest, both signatures, block time.
    event AgreementRecorded(
        uint256 indexed loanId,
        bytes32 indexed digest,
        address indexed borrower,
        address lender,
        LoanTerms terms,
        uint96 totalDue,
        bytes borrowerSignature,
        bytes lenderSignature,
        address submitter,
        uint40 at
    );
    event LoanDisbursed(uint256 indexed loanId, address indexed lender, address indexed borrower, uint96 amount, uint40 at);
    /// @notice A repayment; `receivableId` is 0 when the borrower repaid directly.
    event LoanRepaid(
        uint256 indexed loanId,
        address indexed lender,
        uint256 indexed receivableId,
        uint96 amount,
        uint96 repaidTotal,
        uint96 outstanding,
        uint40 at
    );
    event LoanClosed(uint256 indexed loanId, LoanStatus status, uint40 at);
    event LoanDefaulted(uint256 indexed loanId, address indexed lender, address indexed borrower, uint96 outstanding, uint40 at);
    event LoanCancelled(uint256 indexed loanId, address indexed by, uint40 at);
    event NonceCancelled(address indexed signer, uint256 indexed nonce);

    error LoanAgreementsExpiredSignature(uint256 deadline);
    error LoanAgreementsNonceCancelled(address signer, uint256 nonce);
    error LoanAgreementsAlreadyRecorded(bytes32 digest, uint256 loanId);
    error LoanAgreementsInvalidSignature(address signer);
    error LoanAgreementsNotActiveParticipant(address account, uint8 roleMask);
    error LoanAgreementsInvalidTerms(string field);
    error LoanAgreementsInvalidCollateral(uint256 count, uint256 max);
    error LoanAgreementsCollateralNotAscending(uint256 index);
    error LoanAgreementsUnknownLoan(uint256 loanId);
    error LoanAgreementsInvalidStatus(uint256 loanId, LoanStatus status);
    error LoanAgreementsUnauthorized(uint256 loanId, address caller);
    error LoanAgreementsOverpayment(uint256 loanId, uint256 outstanding, uint256 amount);
    error LoanAgreementsNotOverdue(uint256 loanId, uint256 defaultableAt);
    error LoanAgreementsDisbursementExpired(uint256 loanId, uint256 disburseBy);
    error LoanAgreementsCollateralPaidDown(uint256 loanId, uint256 receivableId);
    error LoanAgreementsOnlyReceivables(address caller);

    function submitAgreement(LoanTerms calldata terms, bytes calldata borrowerSignature, bytes calldata lenderSignature)
        external
        returns (uint256 loanId);

    function disburse(uint256 loanId) external;

    function repay(uint256 loanId, uint256 amount) external;

    function declareDefault(uint256 loanId) external;

    function cancelAgreement(uint256 loanId) external;

    function cancelNonce(uint256 nonce) external;

    /// @notice Called by Receivables when the debtor pays a receivable pledged to `loanId`.
    /// @return lender who receives `applied`, the part of `amount` that went to the loan.
    function applyReceivablePayment(uint256 loanId, uint256 receivableId, uint256 amount)
        external
        returns (address lender, uint256 applied);

    /// @notice A loan whose collateral is still pledged: Signed, Active or Defaulted.
    function isLive(uint256 loanId) external view returns (bool);

    function getLoan(uint256 loanId) external view returns (Loan memory);

    function hashTerms(LoanTerms calldata terms) external view returns (bytes32 digest);
}
