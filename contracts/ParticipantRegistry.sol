// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ParticipantRegistry
/// @notice Admission, roles and suspension of consortium participants. Only OPERATOR_ROLE writes.
contract ParticipantRegistry is IParticipantRegistry, AccessControl {
    /// @notice Role that admits, suspends and reinstates participants.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Most KYC attribute hashes one admission may carry.
    uint256 public constant MAX_KYC_ATTRIBUTES = 16;

    mapping(address account => Participant) private _participants;

    constructor(address operator) {
        _grantRole(DEFAULT_ADMIN_ROLE, operator);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @inheritdoc IParticipantRegistry
    function admit(
        address account,
        uint8 roles,
        bytes32 kycDossierHash,
        bytes32 displayNameHash,
        bytes32[] calldata kycAttributes
    ) external onlyRole(OPERATOR_ROLE) {
        if (account == address(0)) revert ParticipantRegistryZeroAddress();
        if (_participants[account].admittedAt != 0) revert ParticipantRegistryAlreadyAdmitted(account);
        _checkRoles(roles);
        if (kycAttributes.length > MAX_KYC_ATTRIBUTES) {
            revert ParticipantRegistryTooManyAttributes(kycAttributes.length, MAX_KYC_ATTRIBUTES);
        }
        uint40 nowTs = uint40(block.timestamp);
        _participants[account] = Participant(roles, false, nowTs, kycDossierHash, displayNameHash);
        emit ParticipantAdmitted(account, roles, kycDossierHash, displayNameHash, kycAttributes, nowTs);
    }

    /// @inheritdoc IParticipantRegistry
    function setRoles(address account, uint8 roles) external onlyRole(OPERATOR_ROLE) {
        _checkRoles(roles);
        _known(account).roles = roles;
        emit ParticipantRolesChanged(account, roles);
    }

    /// @inheritdoc IParticipantRegistry
    function suspend(address account, uint16 reasonCode) external onlyRole(OPERATOR_ROLE) {
        Participant storage p = _known(account);
        if (p.suspended) revert ParticipantRegistryAlreadySuspended(account);
        p.suspended = true;
        emit ParticipantSuspended(account, reasonCode);
    }

    /// @inheritdoc IParticipantRegistry
    function reinstate(address account) external onlyRole(OPERATOR_ROLE) {
        Participant storage p = _known(account);
        if (!p.suspended) revert ParticipantRegistryNotSuspended(account);
        p.suspended = false;
        emit ParticipantReinstated(account);
    }

    /// @inheritdoc IParticipantRegistry
    function isActiveAs(address account, uint8 roleMask) external view returns (bool) {
        Participant storage p = _participants[account];
        return p.admittedAt != 0 && !p.suspended && (p.roles & roleMask) == roleMask;
    }

    /// @inheritdoc IParticipantRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    function _known(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.admittedAt == 0) revert ParticipantRegistryUnknownParticipant(account);
    }

    function _checkRoles(uint8 roles) private pure {
        if (roles == 0 || roles > Roles.ALL) revert ParticipantRegistryInvalidRoles(roles);
    }
}
