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
    /// @param account The participant's address.
    /// @param roles Role bits (SUPPLIER 1, BUYER 2, LENDER 4, AUDITOR 8).
    /// @param kycDossierHash Hash of the KYC dossier kept off chain.
    /// @param displayNameHash Hash of the display name.
    /// @param kycAttributes Keyed hashes of KYC attributes (event only).
    /// @param admittedAt Block time of admission.
    event ParticipantAdmitted(
        address indexed account,
        uint8 roles,
        bytes32 kycDossierHash,
        bytes32 displayNameHash,
        bytes32[] kycAttributes,
        uint40 admittedAt
    );
    /// @notice The operator changed a participant's roles.
    /// @param account The participant's address.
    /// @param roles Role bits (SUPPLIER 1, BUYER 2, LENDER 4, AUDITOR 8).
    event ParticipantRolesChanged(address indexed account, uint8 roles);
    /// @notice The operator suspended a participant.
    /// @param account The participant's address.
    /// @param reasonCode Application-defined reason code.
    event ParticipantSuspended(address indexed account, uint16 reasonCode);
    /// @notice The operator lifted a suspension.
    /// @param account The participant's address.
    event ParticipantReinstated(address indexed account);

    error ParticipantRegistryAlreadyAdmitted(address account);
    error ParticipantRegistryUnknownParticipant(address account);
    error ParticipantRegistryInvalidRoles(uint8 roles);
    error ParticipantRegistryZeroAddress();
    error ParticipantRegistryTooManyAttributes(uint256 count, uint256 max);
    error ParticipantRegistryAlreadySuspended(address account);
    error ParticipantRegistryNotSuspended(address account);

    /// @notice Admits a participant with roles and KYC hashes (operator only).
    /// @param account The participant's address.
    /// @param roles Role bits (SUPPLIER 1, BUYER 2, LENDER 4, AUDITOR 8).
    /// @param kycDossierHash Hash of the KYC dossier kept off chain.
    /// @param displayNameHash Hash of the display name.
    /// @param kycAttributes Keyed hashes of KYC attributes (event only).
    function admit(
        address account,
        uint8 roles,
        bytes32 kycDossierHash,
        bytes32 displayNameHash,
        bytes32[] calldata kycAttributes
    ) external;

    /// @notice Replaces a participant's roles (operator only).
    /// @param account The participant's address.
    /// @param roles Role bits (SUPPLIER 1, BUYER 2, LENDER 4, AUDITOR 8).
    function setRoles(address account, uint8 roles) external;

    /// @notice Suspends a participant (operator only): it can start nothing new.
    /// @param account The participant's address.
    /// @param reasonCode Application-defined reason code.
    function suspend(address account, uint16 reasonCode) external;

    /// @notice Lifts a suspension (operator only).
    /// @param account The participant's address.
    function reinstate(address account) external;

    /// @notice True when `account` is admitted, not suspended, and holds every bit of `roleMask`.
    /// @param account The participant's address.
    /// @param roleMask Role bits all of which the account must hold.
    /// @return True when admitted, not suspended and holding every bit of `roleMask`.
    function isActiveAs(address account, uint8 roleMask) external view returns (bool);

    /// @notice The participant's stored record.
    /// @param account The participant's address.
    /// @return The record (admittedAt 0 for an unknown account).
    function participant(address account) external view returns (Participant memory);
}
