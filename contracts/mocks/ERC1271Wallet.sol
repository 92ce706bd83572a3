// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @title ERC1271Wallet (test only)
/// @notice Test-only contract wallet: approves hashes its owner signed (ERC-1271) and runs calls for
/// its owner. `lie` makes it answer with a wrong magic value.
contract ERC1271Wallet is IERC1271, IERC721Receiver {
    error ERC1271WalletNotOwner(address caller);

    /// @notice The EOA whose signatures the wallet accepts.
    address public immutable owner;
    /// @notice When true the wallet accepts any signature (a lying wallet for tests).
    bool public lie;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Makes the wallet accept any signature (true) or only its owner's (false).
    /// @param lie_ True to accept any signature.
    function setLie(bool lie_) external {
        if (msg.sender != owner) revert ERC1271WalletNotOwner(msg.sender);
        lie = lie_;
    }

    /// @notice Lets the owner call `target` with `data` (the wallet acting as a participant).
    /// @param target The contract to call.
    /// @param data The call data.
    /// @return What the call returned.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert ERC1271WalletNotOwner(msg.sender);
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// @notice ERC-1271: the magic value when the owner signed `hash`, or when set to lie.
    /// @param hash The signed hash.
    /// @param signature The signature.
    /// @return The ERC-1271 magic value, or 0xffffffff.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(hash, signature);
        if (!lie && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xdeadbeef;
    }

    /// @notice Accepts ERC-721 tokens sent with safeTransferFrom.
    /// @return The ERC-721 receiver selector.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }
}
