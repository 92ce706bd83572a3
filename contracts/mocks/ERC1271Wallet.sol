// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @notice Test-only contract wallet: approves hashes its owner signed (ERC-1271) and runs calls for
/// its owner. `lie` makes it answer with a wrong magic value.
contract ERC1271Wallet is IERC1271, IERC721Receiver {
    error ERC1271WalletNotOwner(address caller);

    address public immutable owner;
    bool public lie;

    constructor(address owner_) {
        owner = owner_;
    }

    function setLie(bool lie_) external {
        if (msg.sender != owner) revert ERC1271WalletNotOwner(msg.sender);
        lie = lie_;
    }

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

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(hash, signature);
        if (!lie && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xdeadbeef;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }
}
