// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Evidence notary: anchors document hashes with block time
/// @notice A document's hash is its sha256 (so anyone can check it with `sha256sum`). A batch anchors a
/// Merkle root over many document hashes (OpenZeppelin StandardMerkleTree, leaf type bytes32).
/// Records are keyed by the anchorer, and single documents and batch roots live in two separate
/// namespaces: nobody can become the recorded anchorer of someone else's hash, `anchor()` cannot
/// write a batch root, and nobody can take a root before its batch is anchored.
interface IEvidenceNotary {
    struct Anchor {
        address anchorer;
        uint40 timestamp;
        uint40 blockNumber;
        uint16 kind;
    }

    /// @notice A participant anchored a document hash.
    /// @param documentHash The document's sha256.
    /// @param anchorer Who anchored it.
    /// @param ref An application reference (e.g. the order or loan it belongs to).
    /// @param kind What the document is (application-defined).
    /// @param at Block time in seconds.
    event Anchored(bytes32 indexed documentHash, address indexed anchorer, bytes32 indexed ref, uint16 kind, uint40 at);
    /// @notice A participant anchored the Merkle root of a batch of documents.
    /// @param root The batch's Merkle root.
    /// @param anchorer Who anchored it.
    /// @param ref An application reference (e.g. the order or loan it belongs to).
    /// @param kind What the document is (application-defined).
    /// @param count How many documents the batch holds.
    /// @param at Block time in seconds.
    event BatchAnchored(bytes32 indexed root, address indexed anchorer, bytes32 indexed ref, uint16 kind, uint32 count, uint40 at);
    /// @notice The same anchorer anchored the same hash (or root) again: its first record stands.
    /// @param documentHash The document's sha256.
    /// @param anchorer Who anchored it.
    /// @param firstAt Block time of the anchorer's first record.
    event AnchorRepeated(bytes32 indexed documentHash, address indexed anchorer, uint40 firstAt);

    error EvidenceNotaryNotActiveParticipant(address account);
    error EvidenceNotaryZeroHash();
    error EvidenceNotaryEmptyBatch();

    /// @notice Anchors one document hash for the caller (an active participant).
    /// @param documentHash The document's sha256.
    /// @param kind What the document is (application-defined).
    /// @param ref An application reference (e.g. the order or loan it belongs to), in the event only.
    /// @return fresh False when the caller had already anchored this hash (its first record stands).
    function anchor(bytes32 documentHash, uint16 kind, bytes32 ref) external returns (bool fresh);

    /// @notice Anchors the Merkle root of a batch of document hashes for the caller, in the batch namespace.
    /// @param root The StandardMerkleTree root (leaf type bytes32).
    /// @param count How many documents the batch holds (at least one).
    /// @param kind What the documents are (application-defined).
    /// @param ref An application reference, in the event only.
    /// @return fresh False when the caller had already anchored this root (its first record stands).
    function anchorBatch(bytes32 root, uint32 count, uint16 kind, bytes32 ref) external returns (bool fresh);

    /// @notice The anchor of `documentHash` by `anchorer`.
    /// @param documentHash The document's sha256.
    /// @param anchorer Who anchored it.
    /// @return record All zero when `anchorer` never anchored this hash.
    function getAnchor(bytes32 documentHash, address anchorer) external view returns (Anchor memory record);

    /// @notice The batch root `root` as anchored by `anchorer`.
    /// @param root The batch's Merkle root.
    /// @param anchorer Who anchored it.
    /// @return record All zero when `anchorer` never anchored this root.
    function getBatch(bytes32 root, address anchorer) external view returns (Anchor memory record);

    /// @notice Whether `documentHash` is a member of the batch `root` that `anchorer` anchored.
    /// @param root The batch's Merkle root.
    /// @param anchorer Who anchored the batch.
    /// @param documentHash The document's sha256 (the leaf value).
    /// @param proof The OpenZeppelin Merkle proof of the leaf.
    /// @return member True when the batch exists and the proof holds.
    function verifyInBatch(bytes32 root, address anchorer, bytes32 documentHash, bytes32[] calldata proof)
        external
        view
        returns (bool member);
}
