// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Participant registry of the consortium
/// @notice The consortium operator admits participants after KYC, with roles; other contracts ask it
/// who may do what. A suspended participant keeps its history but can start nothing new.
interface IParticipantRegistry {
    /// @dev Role bits. A participant may hold several.
    // SUPPLIER = 1, BUYER = 2, LENDER = 4, AUDITOR = 8

    struct Participant {
        uint8 roles;
        bool suspended;
        uint40 admittedAt;
        bytes32 kycDossierHash;
        bytes32 displayNameHash;
    }

    /// @notice Emitted on admission. `kycAttributes` are hashes of the dossier's components (legal
    /// representative, registered address, bank account, ...) that risk screening compares between
    /// participants; they live only in this event.
    event ParticipantAdmitted(
        address indexed account,
        uint8 roles,
        bytes32 kycDossierHash,
        bytes32 displayNameHash,
        bytes32[] kycAttributes,
        uint40 admittedAt
    );
    /// @notice Emitted when the operator replaces a participant's KYC hashes: after a change in its
    /// dossier (a new owner, a new bank account) or when the operator rotates the key of the keyed
    /// hashes. The attributes replace those of admission (or of the last update) in full.
    event ParticipantKycUpdated(address indexed account, bytes32 kycDossierHash, bytes32 displayNameHash, bytes32[] kycAttributes);
    event ParticipantRolesChanged(address indexed account, uint8 roles);
    event ParticipantSuspended(address indexed account, uint16 reasonCode);
    event ParticipantReinstated(address indexed account);

    error RegistryAlreadyAdmitted(address account);
    error RegistryUnknownParticipant(address account);
    error RegistryInvalidRoles(uint8 roles);
    error RegistryZeroAddress();
    error RegistryTooManyAttributes(uint256 count, uint256 max);
    error RegistryAlreadySuspended(address account);
    error RegistryNotSuspended(address account);

    function admit(
        address account,
        uint8 roles,
        bytes32 kycDossierHash,
        bytes32 displayNameHash,
        bytes32[] calldata kycAttributes
    ) external;

    /// @notice Replaces the KYC dossier hash, display-name hash and KYC attribute hashes of a known
    /// participant (operator only; at most MAX_KYC_ATTRIBUTES attributes).
    function updateKyc(address account, bytes32 kycDossierHash, bytes32 displayNameHash, bytes32[] calldata kycAttributes) external;

    function setRoles(address account, uint8 roles) external;

    function suspend(address account, uint16 reasonCode) external;

    function reinstate(address account) external;

    /// @notice True when `account` is admitted, not suspended, and holds every bit of `roleMask`.
    function isActiveAs(address account, uint8 roleMask) external view returns (bool);

    function participant(address account) external view returns (Participant memory);
}
