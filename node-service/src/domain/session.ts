import type { Address } from "./entities";

/**
 * Who is calling, set by the authentication middleware on `res.locals.session` after a Sign-In with
 * Ethereum. `roles` are read from the on-chain ParticipantRegistry at request time, never from the client.
 */
export interface Session {
  address: Address;
  /** ROLE bits from the registry; 0 for an address that is not an active participant. */
  roles: number;
  /** True for the consortium operator (OPERATOR_ROLE on the registry). */
  operator: boolean;
}
