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
    /// @param borrower The borrower.
    /// @param lender The lender.
    /// @param scopes Bitmask of consent scopes.
    /// @param expiresAt Block time from which the consent no longer holds.
    /// @param purpose Hash of the purpose (e.g. the application).
    /// @param at Block time in seconds.
    event ConsentGranted(
        address indexed borrower, address indexed lender, uint16 scopes, uint40 expiresAt, bytes32 purpose, uint40 at
    );
    /// @notice A borrower revoked a lender's consent.
    /// @param borrower The borrower.
    /// @param lender The lender.
    /// @param at Block time in seconds.
    event ConsentRevoked(address indexed borrower, address indexed lender, uint40 at);

    error ConsentRegistryNotActiveParticipant(address account, uint8 roleMask);
    error ConsentRegistryInvalidScopes(uint16 scopes);
    error ConsentRegistryExpiryInPast(uint256 expiresAt);
    error ConsentRegistryNotInForce(address borrower, address lender);

    /// @notice Grants `lender` the data-use `scopes` until `expiresAt`, for `purpose` (caller is the borrower).
    /// @param lender The lender.
    /// @param scopes Bitmask of consent scopes.
    /// @param expiresAt Block time from which the consent no longer holds.
    /// @param purpose Hash of the purpose (e.g. the application).
    function grant(address lender, uint16 scopes, uint40 expiresAt, bytes32 purpose) external;

    /// @notice Revokes the caller's consent to `lender`.
    /// @param lender The lender.
    function revoke(address lender) external;

    /// @notice The scopes of the current grant that were in force at time `at` (0 when none).
    /// @param borrower The borrower.
    /// @param lender The lender.
    /// @param at Block time in seconds.
    /// @return The scope bits in force at `at`.
    function scopesAt(address borrower, address lender, uint256 at) external view returns (uint16);

    /// @notice The borrower's current consent record for a lender.
    /// @param borrower The borrower.
    /// @param lender The lender.
    /// @return The consent record.
    function consentOf(address borrower, address lender) external view returns (Consent memory);
}
