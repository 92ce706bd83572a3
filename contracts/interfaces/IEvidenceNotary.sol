// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Evidence notary: anchors document hashes with block time
/// @notice A document's hash is its sha256 (so anyone can check it with `sha256sum`). A batch anchors a
/// Merkle root over many document hashes (OpenZeppelin StandardMerkleTree, leaf type bytes32).
interface IEvidenceNotary {
    struct Anchor {
        address anchorer;
        uint40 timestamp;
        uint40 blockNumber;
        uint16 kind;
    }

    event Anchored(bytes32 indexed documentHash, address indexed anchorer, bytes32 indexed ref, uint16 kind, uint40 at);
    event BatchAnchored(bytes32 indexed root, address indexed anchorer, bytes32 indexed ref, uint16 kind, uint32 count, uint40 at);
    /// @notice A repeated anchor changes nothing: the first one stands.
    event AnchorRepeated(bytes32 indexed documentHash, address indexed by, address firstAnchorer, uint40 firstAt);

    error NotaryNotActiveParticipant(address account);
    error NotaryZeroHash();
    error NotaryEmptyBatch();

    /// @return fresh false when the hash was already anchored (the first anchor is kept).
    function anchor(bytes32 documentHash, uint16 kind, bytes32 ref) external returns (bool fresh);

    function anchorBatch(bytes32 root, uint32 count, uint16 kind, bytes32 ref) external returns (bool fresh);

    function getAnchor(bytes32 documentHash) external view returns (Anchor memory);

    /// @notice True when `documentHash` is a member of the anchored batch `root` by `proof`.
    function verifyInBatch(bytes32 root, bytes32 documentHash, bytes32[] calldata proof) external view returns (bool);
}
