// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {IEvidenceNotary} from "./interfaces/IEvidenceNotary.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title EvidenceNotary
/// @notice One storage slot per (hash, anchorer) (anchorer, time, block, kind); the reference lives in
/// the event. Single documents and batch roots are two mappings, so neither can occupy the other.
/// `multicall` (OpenZeppelin: delegatecalls to itself, so msg.sender stays the caller) anchors many
/// hashes in one transaction, each with its own record and Anchored event, as if anchored one by one.
contract EvidenceNotary is IEvidenceNotary, Multicall {
    /// @notice The participant registry that says who is admitted, with which roles, and not suspended.
    IParticipantRegistry public immutable registry;

    mapping(bytes32 documentHash => mapping(address anchorer => Anchor)) private _anchors;
    mapping(bytes32 root => mapping(address anchorer => Anchor)) private _batches;

    constructor(IParticipantRegistry registry_) {
        registry = registry_;
    }

    /// @inheritdoc IEvidenceNotary
    function anchor(bytes32 documentHash, uint16 kind, bytes32 ref) external returns (bool fresh) {
        fresh = _record(_anchors[documentHash][msg.sender], documentHash, kind);
        if (fresh) emit Anchored(documentHash, msg.sender, ref, kind, uint40(block.timestamp));
    }

    /// @inheritdoc IEvidenceNotary
    function anchorBatch(bytes32 root, uint32 count, uint16 kind, bytes32 ref) external returns (bool fresh) {
        if (count == 0) revert EvidenceNotaryEmptyBatch();
        fresh = _record(_batches[root][msg.sender], root, kind);
        if (fresh) emit BatchAnchored(root, msg.sender, ref, kind, count, uint40(block.timestamp));
    }

    /// @inheritdoc IEvidenceNotary
    function getAnchor(bytes32 documentHash, address anchorer) external view returns (Anchor memory) {
        return _anchors[documentHash][anchorer];
    }

    /// @inheritdoc IEvidenceNotary
    function getBatch(bytes32 root, address anchorer) external view returns (Anchor memory) {
        return _batches[root][anchorer];
    }

    /// @inheritdoc IEvidenceNotary
    function verifyInBatch(bytes32 root, address anchorer, bytes32 documentHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (_batches[root][anchorer].timestamp == 0) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(documentHash))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function _record(Anchor storage a, bytes32 hash, uint16 kind) private returns (bool) {
        if (hash == bytes32(0)) revert EvidenceNotaryZeroHash();
        if (!registry.isActiveAs(msg.sender, Roles.ANY)) revert EvidenceNotaryNotActiveParticipant(msg.sender);
        uint40 firstAt = a.timestamp;
        if (firstAt != 0) {
            emit AnchorRepeated(hash, msg.sender, firstAt);
            return false;
        }
        a.anchorer = msg.sender;
        a.timestamp = uint40(block.timestamp);
        a.blockNumber = uint40(block.number);
        a.kind = kind;
        return true;
    }
}
