// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ILoanAgreements} from "./interfaces/ILoanAgreements.sol";
import {IReceivables} from "./interfaces/IReceivables.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title LoanAgreements
/// @notice Records loan terms signed off chain by borrower and lender (EIP-712; EOAs and ERC-1271
/// wallets via SignatureChecker), pledges the collateral, and runs disbursement, repayment and default.
/// The replay key is the EIP-712 digest: one digest records at most one loan. A signer can void an
/// unsubmitted offer by cancelling its nonce.
contract LoanAgreements is ILoanAgreements, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice EIP-712 typehash of LoanTerms.
    bytes32 public constant LOAN_TERMS_TYPEHASH = keccak256(
        "LoanTerms(address borrower,address lender,address currency,uint256 principal,uint256 rateBps,uint256 start,"
        "uint256 disburseBy,uint256 maturity,uint256[] collateral,bytes32 documentHash,uint256 nonce,uint256 deadline)"
    );
    /// @notice Most receivables one agreement may pledge.
    uint256 public constant MAX_COLLATERAL = 10;
    /// @notice Highest interest rate, in basis points a year (100%).
    uint256 public constant MAX_RATE_BPS = 10_000;
    uint256 private constant YEAR = 365 days;

    /// @notice The participant registry that says who is admitted, with which roles, and not suspended.
    IParticipantRegistry public immutable registry;
    /// @notice The receivables contract that holds the collateral.
    IReceivables public immutable receivables;
    /// @notice The ERC-20 every amount is paid in (minor units).
    IERC20 public immutable settlementToken;
    /// @notice Seconds after maturity before the lender may declare a default.
    uint256 public immutable gracePeriod;

    uint256 private _loanCount;
    mapping(uint256 loanId => Loan) private _loans;
    mapping(bytes32 digest => uint256 loanId) private _loanIdByDigest;
    mapping(address signer => mapping(uint256 nonce => bool)) private _cancelledNonces;
    /// @dev The first collateral a debtor paid on while the loan was Signed (0: none); blocks disbursement.
    mapping(uint256 loanId => uint256 receivableId) private _paidDownCollateral;

    constructor(IParticipantRegistry registry_, IReceivables receivables_, IERC20 settlementToken_, uint256 gracePeriod_)
        EIP712("LoanAgreements", "1")
    {
        registry = registry_;
        receivables = receivables_;
        settlementToken = settlementToken_;
        gracePeriod = gracePeriod_;
    }

    /// @inheritdoc ILoanAgreements
    function submitAgreement(LoanTerms calldata t, bytes calldata borrowerSignature, bytes calldata lenderSignature)
        external
        returns (uint256 loanId)
    {
        // Checks: deadline, then nonce, then the typed-data hash and signatures.
        if (block.timestamp > t.deadline) revert LoanAgreementsExpiredSignature(t.deadline);
        if (_cancelledNonces[t.borrower][t.nonce]) revert LoanAgreementsNonceCancelled(t.borrower, t.nonce);
        if (_cancelledNonces[t.lender][t.nonce]) revert LoanAgreementsNonceCancelled(t.lender, t.nonce);
        bytes32 digest = hashTerms(t);
        uint256 existing = _loanIdByDigest[digest];
        if (existing != 0) revert LoanAgreementsAlreadyRecorded(digest, existing);
        if (!SignatureChecker.isValidSignatureNowCalldata(t.borrower, digest, borrowerSignature)) {
            revert LoanAgreementsInvalidSignature(t.borrower);
        }
        if (!SignatureChecker.isValidSignatureNowCalldata(t.lender, digest, lenderSignature)) {
            revert LoanAgreementsInvalidSignature(t.lender);
        }
        _requireActive(t.borrower, Roles.SUPPLIER);
        _requireActive(t.lender, Roles.LENDER);
        uint88 totalDue = _checkTerms(t);

        loanId = ++_loanCount;
        _loanIdByDigest[digest] = loanId;
        _loans[loanId] = Loan({
            borrower: t.borrower,
            maturity: uint40(t.maturity),
            status: LoanStatus.Signed,
            collateralCount: uint8(t.collateral.length),
            rateBps: uint32(t.rateBps),
            lender: t.lender,
            principal: uint96(t.principal),
            totalDue: totalDue,
            repaid: 0,
            disbursedAt: 0,
            disburseBy: uint40(t.disburseBy)
        });
        emit AgreementRecorded(
            loanId, digest, t.borrower, t.lender, t, totalDue, borrowerSignature, lenderSignature, msg.sender, _now()
        );
        for (uint256 i; i < t.collateral.length; ++i) {
            receivables.pledge(t.collateral[i], loanId, t.borrower);
        }
    }

    /// @inheritdoc ILoanAgreements
    function disburse(uint256 loanId) external {
        Loan storage loan = _loan(loanId);
        if (msg.sender != loan.lender) revert LoanAgreementsUnauthorized(loanId, msg.sender);
        _requireStatus(loan, loanId, LoanStatus.Signed);
        // disburseBy < maturity (checked at submission), so this also refuses a matured loan.
        if (block.timestamp > loan.disburseBy) revert LoanAgreementsDisbursementExpired(loanId, loan.disburseBy);
        uint256 paidDown = _paidDownCollateral[loanId];
        if (paidDown != 0) revert LoanAgreementsCollateralPaidDown(loanId, paidDown);
        _requireActive(msg.sender, Roles.LENDER);
        loan.status = LoanStatus.Active;
        loan.disbursedAt = _now();
        emit LoanDisbursed(loanId, msg.sender, loan.borrower, loan.principal, _now());
        settlementToken.safeTransferFrom(msg.sender, loan.borrower, loan.principal);
    }

    /// @inheritdoc ILoanAgreements
    function repay(uint256 loanId, uint256 amount) external {
        Loan storage loan = _loan(loanId);
        if (msg.sender != loan.borrower) revert LoanAgreementsUnauthorized(loanId, msg.sender);
        if (loan.status != LoanStatus.Active && loan.status != LoanStatus.Defaulted) {
            revert LoanAgreementsInvalidStatus(loanId, loan.status);
        }
        uint256 outstanding = loan.totalDue - loan.repaid;
        if (amount == 0 || amount > outstanding) revert LoanAgreementsOverpayment(loanId, outstanding, amount);
        _applyRepayment(loan, loanId, 0, amount);
        settlementToken.safeTransferFrom(msg.sender, loan.lender, amount);
    }

    /// @inheritdoc ILoanAgreements
    function applyReceivablePayment(uint256 loanId, uint256 receivableId, uint256 amount)
        external
        returns (address lender, uint256 applied)
    {
        if (msg.sender != address(receivables)) revert LoanAgreementsOnlyReceivables(msg.sender);
        Loan storage loan = _loans[loanId];
        lender = loan.lender;
        LoanStatus status = loan.status;
        // Before disbursement nothing is owed: the payment goes to the holder, and the collateral is
        // now worth less than what was signed, so the loan can no longer be disbursed.
        if (status == LoanStatus.Signed) {
            if (_paidDownCollateral[loanId] == 0) _paidDownCollateral[loanId] = receivableId;
            return (lender, 0);
        }
        // A disbursed loan, live or defaulted, takes first; a closed one takes nothing.
        if (status != LoanStatus.Active && status != LoanStatus.Defaulted) return (lender, 0);
        uint256 outstanding = loan.totalDue - loan.repaid;
        applied = amount < outstanding ? amount : outstanding;
        _applyRepayment(loan, loanId, receivableId, applied);
    }

    /// @inheritdoc ILoanAgreements
    function declareDefault(uint256 loanId) external {
        Loan storage loan = _loan(loanId);
        if (msg.sender != loan.lender) revert LoanAgreementsUnauthorized(loanId, msg.sender);
        _requireStatus(loan, loanId, LoanStatus.Active);
        uint256 defaultableAt = uint256(loan.maturity) + gracePeriod;
        if (block.timestamp <= defaultableAt) revert LoanAgreementsNotOverdue(loanId, defaultableAt);
        _requireActive(msg.sender, Roles.LENDER);
        // Nothing moves: the collateral stays pledged, so every later payment on it still pays the
        // loan first (capped at what is owed) and the rest goes to the borrower as holder.
        loan.status = LoanStatus.Defaulted;
        emit LoanDefaulted(loanId, msg.sender, loan.borrower, loan.totalDue - loan.repaid, _now());
    }

    /// @inheritdoc ILoanAgreements
    function cancelAgreement(uint256 loanId) external {
        Loan storage loan = _loan(loanId);
        if (msg.sender != loan.borrower && msg.sender != loan.lender) revert LoanAgreementsUnauthorized(loanId, msg.sender);
        _requireStatus(loan, loanId, LoanStatus.Signed);
        loan.status = LoanStatus.Cancelled;
        emit LoanCancelled(loanId, msg.sender, _now());
    }

    /// @inheritdoc ILoanAgreements
    function cancelNonce(uint256 nonce) external {
        _cancelledNonces[msg.sender][nonce] = true;
        emit NonceCancelled(msg.sender, nonce);
    }

    /// @inheritdoc ILoanAgreements
    function isLive(uint256 loanId) external view returns (bool) {
        LoanStatus s = _loans[loanId].status;
        return s == LoanStatus.Signed || s == LoanStatus.Active || s == LoanStatus.Defaulted;
    }

    /// @inheritdoc ILoanAgreements
    function getLoan(uint256 loanId) external view returns (Loan memory) {
        return _loans[loanId];
    }

    /// @notice The loan recorded for an EIP-712 digest (0: none).
    /// @param digest The EIP-712 digest of the signed terms.
    /// @return The loan id, 0 when none.
    function loanIdByDigest(bytes32 digest) external view returns (uint256) {
        return _loanIdByDigest[digest];
    }

    /// @notice How many agreements were recorded (the last loan id).
    /// @return The number of loans.
    function loanCount() external view returns (uint256) {
        return _loanCount;
    }

    /// @notice Whether `signer` cancelled `nonce`.
    /// @param signer The signer.
    /// @param nonce The nonce chosen by the signers.
    /// @return True when cancelled.
    function isNonceCancelled(address signer, uint256 nonce) external view returns (bool) {
        return _cancelledNonces[signer][nonce];
    }

    /// @notice The first collateral paid on while the loan was Signed (0: none); it blocks disbursement.
    /// @param loanId The loan.
    /// @return The receivable id, 0 when none.
    function paidDownCollateral(uint256 loanId) external view returns (uint256) {
        return _paidDownCollateral[loanId];
    }

    /// @inheritdoc ILoanAgreements
    function hashTerms(LoanTerms calldata t) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    LOAN_TERMS_TYPEHASH,
                    t.borrower,
                    t.lender,
                    t.currency,
                    t.principal,
                    t.rateBps,
                    t.start,
                    t.disburseBy,
                    t.maturity,
                    keccak256(abi.encodePacked(t.collateral)),
                    t.documentHash,
                    t.nonce,
                    t.deadline
                )
            )
        );
    }

    /// @notice Simple interest on the principal from start to maturity, rounded down.
    /// @param principal Principal in minor units.
    /// @param rateBps Simple interest, basis points a year.
    /// @param start Block time interest runs from.
    /// @param maturity Block time the amount is due.
    /// @return Principal plus interest, in minor units.
    function totalDueOf(uint256 principal, uint256 rateBps, uint256 start, uint256 maturity) public pure returns (uint256) {
        return principal + (principal * rateBps * (maturity - start)) / (YEAR * 10_000);
    }

    function _applyRepayment(Loan storage loan, uint256 loanId, uint256 receivableId, uint256 amount) private {
        uint88 repaid = loan.repaid + uint88(amount);
        loan.repaid = repaid;
        emit LoanRepaid(loanId, loan.lender, receivableId, uint96(amount), repaid, loan.totalDue - repaid, _now());
        if (repaid == loan.totalDue) {
            LoanStatus closed = loan.status == LoanStatus.Defaulted ? LoanStatus.Recovered : LoanStatus.Repaid;
            loan.status = closed;
            emit LoanClosed(loanId, closed, _now());
        }
    }

    function _checkTerms(LoanTerms calldata t) private view returns (uint88) {
        if (t.borrower == t.lender) revert LoanAgreementsInvalidTerms("lender");
        if (t.currency != address(settlementToken)) revert LoanAgreementsInvalidTerms("currency");
        if (t.principal == 0 || t.principal > type(uint96).max) revert LoanAgreementsInvalidTerms("principal");
        if (t.rateBps > MAX_RATE_BPS) revert LoanAgreementsInvalidTerms("rateBps");
        if (t.maturity <= t.start || t.maturity <= block.timestamp || t.maturity > type(uint40).max) {
            revert LoanAgreementsInvalidTerms("maturity");
        }
        if (t.disburseBy < block.timestamp || t.disburseBy >= t.maturity) revert LoanAgreementsInvalidTerms("disburseBy");
        uint256 n = t.collateral.length;
        if (n == 0 || n > MAX_COLLATERAL) revert LoanAgreementsInvalidCollateral(n, MAX_COLLATERAL);
        _requireAscending(t.collateral);
        uint256 totalDue = totalDueOf(t.principal, t.rateBps, t.start, t.maturity);
        if (totalDue > type(uint88).max) revert LoanAgreementsInvalidTerms("principal");
        return uint88(totalDue);
    }

    function _requireAscending(uint256[] calldata ids) private pure {
        for (uint256 i = 1; i < ids.length; ++i) {
            if (ids[i] <= ids[i - 1]) revert LoanAgreementsCollateralNotAscending(i);
        }
    }

    function _loan(uint256 loanId) private view returns (Loan storage loan) {
        loan = _loans[loanId];
        if (loan.status == LoanStatus.None) revert LoanAgreementsUnknownLoan(loanId);
    }

    function _requireStatus(Loan storage loan, uint256 loanId, LoanStatus expected) private view {
        if (loan.status != expected) revert LoanAgreementsInvalidStatus(loanId, loan.status);
    }

    function _requireActive(address account, uint8 roleMask) private view {
        if (!registry.isActiveAs(account, roleMask)) revert LoanAgreementsNotActiveParticipant(account, roleMask);
    }

    function _now() private view returns (uint40) {
        return uint40(block.timestamp);
    }
}
