/**
 * What the chain says about who may do what: a caller's roles and operator flag (ParticipantRegistry),
 * and the consent a borrower has granted a lender (ConsentRegistry).
 *
 * Consents come from the consent watcher (auth/consent-watch.ts: the index plus the blocks above its
 * tip, refreshed by a head watcher), with no chain read per request; a revocation takes effect from the
 * block that includes it, at most one poll interval after that block is produced. While the watcher is
 * not current (or without one) the consent is read on chain at the latest block, as before. Roles are
 * read on chain and forgotten as soon as the watcher sees a ParticipantRegistry event for the account (a
 * suspension applies within the same bound). A read is reused for `roleCacheMs`, and beyond that (up to
 * WATCHED_ROLES_MAX_MS) while the watcher is current and has not started over since the read: it has
 * then read every block up to its last poll, so no event of the account is missing from what it saw.
 */
import { keccak256, toHex, type Address, type PublicClient } from "viem";
import { abiOf, type Deployment } from "../chain/contracts";
import { ChainError } from "../domain/errors";
import type { ConsentWatcher } from "./consent-watch";

export const OPERATOR_ROLE = keccak256(toHex("OPERATOR_ROLE"));
/** The longest a role read is reused while the watcher is current (a bound on a watcher fault nobody noticed). */
export const WATCHED_ROLES_MAX_MS = 10 * 60_000;

export interface ChainIdentity {
  /** ROLE bits while admitted and not suspended; 0 otherwise. */
  roles: number;
  operator: boolean;
  admitted: boolean;
  suspended: boolean;
}

export interface ConsentInForce {
  /** Scopes in force at `at` (0 when none): ConsentRegistry.scopesAt(borrower, lender, at). */
  scopes: number;
  /** The time the check was made for: max(wall clock, latest block time), in seconds. */
  at: number;
  blockNumber: bigint;
  /** The grant record the scopes come from (ConsentRegistry.consentOf at the same block). */
  grant: { scopes: number; grantedAt: number; expiresAt: number; revokedAt: number };
}

export interface ChainAuthority {
  identityOf(address: Address): Promise<ChainIdentity>;
  consentInForce(borrower: Address, lender: Address): Promise<ConsentInForce>;
  /** max(wall clock, latest block time) in seconds: never earlier than the chain's own idea of now. */
  now(): Promise<{ seconds: number; blockNumber: bigint }>;
  /** The newest block the consent answers reflect without a chain read (-1 when they are read on chain). */
  consentBlock(): number;
  /** The same, with the latest block read at most a second ago: for defaults such as a metrics asOf, not for access decisions. */
  recentNow(): Promise<number>;
}

export interface CreateChainAuthorityParameters {
  publicClient: PublicClient;
  deployment: Deployment;
  roleCacheMs: number;
  /** Consents per block without a chain read; absent: every consent is read on chain. */
  consents?: Pick<ConsentWatcher, "current" | "seenBlock" | "onParticipantEvent" | "epoch">;
}

export function createChainAuthority({
  publicClient,
  deployment,
  roleCacheMs,
  consents: watcher,
}: CreateChainAuthorityParameters): ChainAuthority {
  const registry = { address: deployment.contracts.ParticipantRegistry, abi: abiOf("ParticipantRegistry") } as const;
  const consents = { address: deployment.contracts.ConsentRegistry, abi: abiOf("ConsentRegistry") } as const;
  const identities = new Map<Address, { at: number; epoch: number; value: Promise<ChainIdentity> }>();
  // A participant event (admission, roles, suspension, operator role) makes the next request read again.
  watcher?.onParticipantEvent((account) => identities.delete(account));

  async function chainCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ChainError(`could not read ${what} from the chain`, { cause: err });
    }
  }

  async function readIdentity(address: Address): Promise<ChainIdentity> {
    const [participant, operator] = await chainCall("the participant registry", () =>
      Promise.all([
        publicClient.readContract({ ...registry, functionName: "participant", args: [address] }) as Promise<{
          roles: number;
          suspended: boolean;
          admittedAt: number;
        }>,
        publicClient.readContract({ ...registry, functionName: "hasRole", args: [OPERATOR_ROLE, address] }) as Promise<boolean>,
      ]),
    );
    const admitted = Number(participant.admittedAt) !== 0;
    return {
      roles: admitted && !participant.suspended ? Number(participant.roles) : 0,
      operator,
      admitted,
      suspended: participant.suspended,
    };
  }

  async function now(): Promise<{ seconds: number; blockNumber: bigint }> {
    const block = await chainCall("the latest block", () => publicClient.getBlock({ blockTag: "latest" }));
    return { seconds: Math.max(Math.floor(Date.now() / 1000), Number(block.timestamp)), blockNumber: block.number };
  }

  let recent: { at: number; value: Promise<{ seconds: number }> } | undefined;

  return {
    async recentNow() {
      if (!recent || Date.now() - recent.at > 1000) {
        recent = { at: Date.now(), value: now() };
        recent.value.catch(() => (recent = undefined));
      }
      const { seconds } = await recent.value;
      return Math.max(seconds, Math.floor(Date.now() / 1000));
    },

    identityOf(address) {
      const key = address.toLowerCase() as Address;
      const cached = identities.get(key);
      if (cached) {
        const age = Date.now() - cached.at;
        // ROLE_CACHE_MS=0 turns the cache off, the watcher's extension included.
        const watched = roleCacheMs > 0 && !!watcher && watcher.seenBlock() >= 0 && watcher.epoch() === cached.epoch;
        if (age < roleCacheMs || (watched && age < WATCHED_ROLES_MAX_MS)) return cached.value;
      }
      const value = readIdentity(key);
      identities.set(key, { at: Date.now(), epoch: watcher?.epoch() ?? 0, value });
      // A failed read must not be served from the cache.
      value.catch(() => identities.delete(key));
      if (identities.size > 10_000) identities.delete(identities.keys().next().value as Address);
      return value;
    },

    consentBlock: () => watcher?.seenBlock() ?? -1,

    async consentInForce(borrower, lender) {
      const cached = watcher?.current(borrower, lender);
      if (cached) return cached;
      const { seconds, blockNumber } = await now();
      const [scopes, grant] = await chainCall("the consent registry", () =>
        Promise.all([
          publicClient.readContract({
            ...consents,
            functionName: "scopesAt",
            args: [borrower, lender, BigInt(seconds)],
            blockNumber,
          }) as Promise<number>,
          publicClient.readContract({ ...consents, functionName: "consentOf", args: [borrower, lender], blockNumber }) as Promise<{
            scopes: number;
            grantedAt: number;
            expiresAt: number;
            revokedAt: number;
          }>,
        ]),
      );
      return {
        scopes: Number(scopes),
        at: seconds,
        blockNumber,
        grant: {
          scopes: Number(grant.scopes),
          grantedAt: Number(grant.grantedAt),
          expiresAt: Number(grant.expiresAt),
          revokedAt: Number(grant.revokedAt),
        },
      };
    },

    now,
  };
}
