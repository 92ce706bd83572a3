// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title BareERC721 (benchmark only)
/// @notice Baseline for the gas benchmark: OpenZeppelin's ERC-721 mint with nothing else.
contract BareERC721 is ERC721 {
    constructor() ERC721("Bare", "BARE") {}

    /// @notice Mints `tokenId` to `to` (the gas benchmark's baseline).
    /// @param to The recipient.
    /// @param tokenId The token id.
    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
