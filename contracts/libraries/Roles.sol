// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Roles
/// @notice Participant role bits, shared by every contract that asks the registry.
library Roles {
    uint8 internal constant SUPPLIER = 1;
    uint8 internal constant BUYER = 2;
    uint8 internal constant LENDER = 4;
    uint8 internal constant AUDITOR = 8;
    uint8 internal constant ALL = 15;
    /// @dev Any admitted, active participant (used with isActiveAs and a zero mask).
    uint8 internal constant ANY = 0;
}
