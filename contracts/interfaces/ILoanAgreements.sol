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
    /// @param loanId The loan.
    /// @param digest The EIP-712 digest of the signed terms.
    /// @param borrower The borrower.
    /// @param lender The lender.
    /// @param terms The signed LoanTerms.
    /// @param totalDue Principal plus interest: the most the lender can receive.
    /// @param borrowerSignature The borrower's EIP-712 signature (65-byte ECDSA or ERC-1271).
    /// @param lenderSignature The lender's EIP-712 signature (65-byte ECDSA or ERC-1271).
    /// @param submitter Who sent the transaction.
    /// @param at Block time in seconds.
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
    /// @notice The lender paid the principal to the borrower.
    /// @param loanId The loan.
    /// @param lender The lender.
    /// @param borrower The borrower.
    /// @param amount The principal paid.
    /// @param at Block time in seconds.
    event LoanDisbursed(uint256 indexed loanId, address indexed lender, address indexed borrower, uint96 amount, uint40 at);
    /// @notice A repayment; `receivableId` is 0 when the borrower repaid directly.
    /// @param loanId The loan.
    /// @param lender The lender.
    /// @param receivableId The collateral paid, 0 for a direct repayment.
    /// @param amount This repayment, in minor units.
    /// @param repaidTotal Total repaid so far (repayments and collections).
    /// @param outstanding What is still owed, in minor units.
    /// @param at Block time in seconds.
    event LoanRepaid(
        uint256 indexed loanId,
        address indexed lender,
        uint256 indexed receivableId,
        uint96 amount,
        uint96 repaidTotal,
        uint96 outstanding,
        uint40 at
    );
    /// @notice The loan was paid in full: Repaid, or Recovered after a default; its collateral is released.
    /// @param loanId The loan.
    /// @param status Repaid, or Recovered after a default.
    /// @param at Block time in seconds.
    event LoanClosed(uint256 indexed loanId, LoanStatus status, uint40 at);
    /// @notice The lender declared a default; the collateral stays pledged and keeps paying the loan first.
    /// @param loanId The loan.
    /// @param lender The lender.
    /// @param borrower The borrower.
    /// @param outstanding What is still owed, in minor units.
    /// @param at Block time in seconds.
    event LoanDefaulted(uint256 indexed loanId, address indexed lender, address indexed borrower, uint96 outstanding, uint40 at);
    /// @notice A party cancelled a Signed agreement; its collateral is released.
    /// @param loanId The loan.
    /// @param by Who did it.
    /// @param at Block time in seconds.
    event LoanCancelled(uint256 indexed loanId, address indexed by, uint40 at);
    /// @notice A signer voided its unsubmitted offers with this nonce.
    /// @param signer The signer.
    /// @param nonce The nonce chosen by the signers.
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

    /// @notice Records terms signed by both parties and pledges the collateral (anyone may submit).
    /// @param terms The signed LoanTerms.
    /// @param borrowerSignature The borrower's EIP-712 signature (65-byte ECDSA or ERC-1271).
    /// @param lenderSignature The lender's EIP-712 signature (65-byte ECDSA or ERC-1271).
    /// @return loanId The new loan's id.
    function submitAgreement(LoanTerms calldata terms, bytes calldata borrowerSignature, bytes calldata lenderSignature)
        external
        returns (uint256 loanId);

    /// @notice Pays the principal from the lender to the borrower, no later than the signed disburseBy and only if no collateral was paid since signing.
    /// @param loanId The loan.
    function disburse(uint256 loanId) external;

    /// @notice Repays `amount` of what is still owed, from the borrower to the lender (Active or Defaulted loans).
    /// @param loanId The loan.
    /// @param amount Minor units of the settlement token.
    function repay(uint256 loanId, uint256 amount) external;

    /// @notice Declares a default (lender, after maturity plus the grace period); the collateral stays pledged and keeps paying the loan first, capped at what is owed.
    /// @param loanId The loan.
    function declareDefault(uint256 loanId) external;

    /// @notice Cancels a Signed agreement (borrower or lender), releasing its collateral.
    /// @param loanId The loan.
    function cancelAgreement(uint256 loanId) external;

    /// @notice Voids the caller's unsubmitted offers with `nonce`. Race: whoever holds both signatures
    /// can still submit the agreement (and the lender disburse) before this is mined; a borrower then
    /// cancels the recorded agreement with cancelAgreement before disbursement.
    /// @param nonce The nonce chosen by the signers.
    function cancelNonce(uint256 nonce) external;

    /// @notice Called by Receivables when the debtor pays a receivable pledged to `loanId`: a disbursed
    /// loan (Active or Defaulted) takes up to what is still owed; a Signed one takes nothing and records
    /// the receivable as paid down, which blocks its disbursement.
    /// @param loanId The loan.
    /// @param receivableId The collateral paid.
    /// @param amount The debtor's payment, in minor units.
    /// @return lender Who receives `applied`.
    /// @return applied The part of `amount` that went to the loan (never more than what is owed).
    function applyReceivablePayment(uint256 loanId, uint256 receivableId, uint256 amount)
        external
        returns (address lender, uint256 applied);

    /// @notice A loan whose collateral is still pledged: Signed, Active or Defaulted.
    /// @param loanId The loan.
    /// @return True while Signed, Active or Defaulted.
    function isLive(uint256 loanId) external view returns (bool);

    /// @notice The loan's stored record.
    /// @param loanId The loan.
    /// @return The record (status None for an unknown loan).
    function getLoan(uint256 loanId) external view returns (Loan memory);

    /// @notice The EIP-712 digest both parties sign for `terms`.
    /// @param terms The signed LoanTerms.
    /// @return digest The digest.
    function hashTerms(LoanTerms calldata terms) external view returns (bytes32 digest);
}
