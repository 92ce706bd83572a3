// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ConsentRegistry
/// @notice One slot per (borrower, lender): the grant in force. A new grant replaces the previous one;
/// the history of grants is in the events.
contract ConsentRegistry is IConsentRegistry {
    /// @notice The bitmask of all eleven data-use scopes.
    uint16 public constant ALL_SCOPES = 0x07FF;

    /// @notice The participant registry that says who is admitted, with which roles, and not suspended.
    IParticipantRegistry public immutable registry;

    mapping(address borrower => mapping(address lender => Consent)) private _consents;

    constructor(IParticipantRegistry registry_) {
        registry = registry_;
    }

    /// @inheritdoc IConsentRegistry
    function grant(address lender, uint16 scopes, uint40 expiresAt, bytes32 purpose) external {
        _requireActive(msg.sender, Roles.ANY);
        _requireActive(lender, Roles.LENDER);
        if (scopes == 0 || scopes > ALL_SCOPES) revert ConsentRegistryInvalidScopes(scopes);
        if (expiresAt <= block.timestamp) revert ConsentRegistryExpiryInPast(expiresAt);
        uint40 nowTs = uint40(block.timestamp);
        _consents[msg.sender][lender] = Consent(scopes, nowTs, expiresAt, 0);
        emit ConsentGranted(msg.sender, lender, scopes, expiresAt, purpose, nowTs);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address lender) external {
        Consent storage c = _consents[msg.sender][lender];
        if (_scopesAt(c, block.timestamp) == 0) revert ConsentRegistryNotInForce(msg.sender, lender);
        c.revokedAt = uint40(block.timestamp);
        emit ConsentRevoked(msg.sender, lender, uint40(block.timestamp));
    }

    /// @inheritdoc IConsentRegistry
    function scopesAt(address borrower, address lender, uint256 at) external view returns (uint16) {
        return _scopesAt(_consents[borrower][lender], at);
    }

    /// @inheritdoc IConsentRegistry
    function consentOf(address borrower, address lender) external view returns (Consent memory) {
        return _consents[borrower][lender];
    }

    function _scopesAt(Consent storage c, uint256 at) private view returns (uint16) {
        if (c.grantedAt == 0 || at < c.grantedAt || at >= c.expiresAt) return 0;
        if (c.revokedAt != 0 && at >= c.revokedAt) return 0;
        return c.scopes;
    }

    function _requireActive(address account, uint8 roleMask) private view {
        if (!registry.isActiveAs(account, roleMask)) revert ConsentRegistryNotActiveParticipant(account, roleMask);
    }
}
