// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title SettlementToken
/// @notice A 2-decimal ERC-20 standing for a digital currency, for the demo and the tests. Real
/// deployments point the contracts at their own settlement token.
contract SettlementToken is ERC20, AccessControl {
    /// @notice Role that may mint settlement tokens.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin) ERC20("Digital Settlement Yuan", "dCNY") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Two decimals: amounts are minor units (cents).
    /// @return 2.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Mints settlement tokens (minter only; demo and tests).
    /// @param to The recipient.
    /// @param amount Minor units of the settlement token.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
