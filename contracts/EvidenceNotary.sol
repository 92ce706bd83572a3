// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IEvidenceNotary} from "./interfaces/IEvidenceNotary.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title EvidenceNotary
/// @notice One storage slot per anchor (anchorer, time, block, kind); the reference lives in the event.
contract EvidenceNotary is IEvidenceNotary {
    /// @notice Kind recorded for a Merkle root of a batch of documents.
    uint16 public constant KIND_BATCH = type(uint16).max;

    IParticipantRegistry public immutable registry;

    mapping(bytes32 documentHash => Anchor) private _anchors;

    constructor(IParticipantRegistry registry_) {
        registry = registry_;
    }

    /// @inheritdoc IEvidenceNotary
    function anchor(bytes32 documentHash, uint16 kind, bytes32 ref) external returns (bool fresh) {
        fresh = _anchor(documentHash, kind);
        if (fresh) emit Anchored(documentHash, msg.sender, ref, kind, uint40(block.timestamp));
    }

    /// @inheritdoc IEvidenceNotary
    function anchorBatch(bytes32 root, uint32 count, uint16 kind, bytes32 ref) external returns (bool fresh) {
        if (count == 0) revert NotaryEmptyBatch();
        fresh = _anchor(root, KIND_BATCH);
        if (fresh) emit BatchAnchored(root, msg.sender, ref, kind, count, uint40(block.timestamp));
    }

    /// @inheritdoc IEvidenceNotary
    function getAnchor(bytes32 documentHash) external view returns (Anchor memory) {
        return _anchors[documentHash];
    }

    /// @inheritdoc IEvidenceNotary
    function verifyInBatch(bytes32 root, bytes32 documentHash, bytes32[] calldata proof) external view returns (bool) {
        if (_anchors[root].kind != KIND_BATCH) return false;
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(documentHash))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function _anchor(bytes32 documentHash, uint16 kind) private returns (bool) {
        if (documentHash == bytes32(0)) revert NotaryZeroHash();
        if (!registry.isActiveAs(msg.sender, Roles.ANY)) revert NotaryNotActiveParticipant(msg.sender);
        Anchor storage a = _anchors[documentHash];
        if (a.timestamp != 0) {
            emit AnchorRepeated(documentHash, msg.sender, a.anchorer, a.timestamp);
            return false;
        }
        _anchors[documentHash] = Anchor(msg.sender, uint40(block.timestamp), uint40(block.number), kind);
        return true;
    }
}
