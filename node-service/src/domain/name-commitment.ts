/**
 * A participant's registered name, provable to anyone: the on-chain ParticipantRegistry keeps a
 * commitment to the display name, and the operator reveals the name with its opening (a per-participant
 * salt) to those allowed to see it. Anyone holding the opening recomputes the commitment and compares it
 * with `ParticipantRegistry.participant(account).displayNameHash`; nobody without it can test a guess.
 *
 *   displayNameHash = sha256( "scf-name-v1" || 0x00 || salt (32 bytes) || UTF-8 bytes of the name )
 *
 * The salt is the operator's keyed hash of the account (kyc-attributes.ts `displayNameSalt`), so the
 * operator re-derives it from its key and revealing one participant's salt reveals nothing about any
 * other participant or any other KYC attribute. The name is committed byte for byte as published (no
 * normalisation): what is shown is exactly what was proved.
 *
 * Browser-safe (viem only): the service, the CLI verifier and the court page import this one rule.
 */
import { concat, sha256, stringToBytes, toBytes, type Hex } from "viem";

export const NAME_COMMITMENT_DOMAIN = "scf-name-v1";

/** An opening of a display-name commitment: the name and the 32-byte salt it was committed with. */
export interface NameOpening {
  name: string;
  salt: Hex;
}

export function isSalt(value: unknown): value is Hex {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value);
}

/** The on-chain displayNameHash of `name` committed with `salt` (32 bytes). */
export function displayNameCommitment(salt: Hex, name: string): Hex {
  if (!isSalt(salt)) throw new RangeError("a display-name salt is 32 bytes of 0x-hex");
  return sha256(concat([stringToBytes(NAME_COMMITMENT_DOMAIN), new Uint8Array([0]), toBytes(salt), stringToBytes(name)]));
}

/** True when the opening recomputes to the committed hash (compared case-insensitively). */
export function openingMatches(opening: NameOpening, committed: string | undefined): boolean {
  if (!committed || !isSalt(opening.salt)) return false;
  return displayNameCommitment(opening.salt, opening.name).toLowerCase() === committed.toLowerCase();
}
