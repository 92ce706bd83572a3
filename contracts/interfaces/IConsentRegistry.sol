// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Consents: which of a borrower's data a lender may use, until when
/// @notice Scope bits (eleven data uses): 0 identity, 1 order history, 2 receivables, 3 payment history,
/// 4 loans and repayments, 5 counterparties, 6 trade documents, 7 derived metrics, 8 risk flags,
/// 9 tax records, 10 bank and e-commerce flows.
interface IConsentRegistry {
    struct Consent {
        uint16 scopes;
        uint40 grantedAt;
        uint40 expiresAt;
        uint40 revokedAt;
    }

    /// @notice `purpose` names what the consent is for (for example the hash of a loan application id).
    event ConsentGranted(
        address indexed borrower, address indexed lender, uint16 scopes, uint40 expiresAt, bytes32 purpose, uint40 at
    );
    event ConsentRevoked(address indexed borrower, address indexed lender, uint40 at);

    error ConsentNotActiveParticipant(address account, uint8 roleMask);
    error ConsentInvalidScopes(uint16 scopes);
    error ConsentExpiryInPast(uint256 expiresAt);
    error ConsentNotInForce(address borrower, address lender);

    function grant(address lender, uint16 scopes, uint40 expiresAt, bytes32 purpose) external;

    function revoke(address lender) external;

    /// @notice The scopes of the current grant that were in force at time `at` (0 when none).
    function scopesAt(address borrower, address lender, uint256 at) external view returns (uint16);

    function consentOf(address borrower, address lender) external view returns (Consent memory);
}
