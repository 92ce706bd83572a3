/**
 * Who may read what, in one place. Every route that serves an enterprise's data calls
 * `authorizeEnterpriseRead`; routes restricted to a role call `requireRole` / `requireSession`.
 *
 * - an enterprise reads its own data;
 * - the operator reads everything (and the read is logged);
 * - a lender reads another enterprise's data only within the scopes that enterprise granted it on the
 *   ConsentRegistry, checked on chain at request time (so expiry and revocation apply at once), and the
 *   read is logged with the consent it relied on;
 * - anyone else is refused.
 */
import type { Response } from "express";
import type { Address } from "../domain/entities";
import { ROLE, SCOPE } from "../chain/eip712";
import type { ChainAuthority } from "../auth/chain-authority";
import type { AccessLog } from "./access-log";
import { ForbiddenError, UnauthorizedError } from "../domain/errors";
import type { Session } from "../domain/session";

export type ScopeName = keyof typeof SCOPE;

/** Names of the scope bits set in `mask`, in bit order. */
export function scopeNames(mask: number): ScopeName[] {
  return (Object.keys(SCOPE) as ScopeName[]).filter((name) => (mask & SCOPE[name]) !== 0);
}

export function scopeMask(names: readonly ScopeName[]): number {
  return names.reduce((mask, name) => mask | SCOPE[name], 0);
}

/** The session set by the authentication middleware, or 401. */
export function requireSession(res: Response): Session {
  const session = res.locals.session as Session | undefined;
  if (!session) throw new UnauthorizedError();
  return session;
}

/** 403 unless the caller is an active participant holding every bit of `roleMask` (or the operator, if allowed). */
export function requireRole(session: Session, roleMask: number, { operatorAllowed = true } = {}): void {
  if (operatorAllowed && session.operator) return;
  if (roleMask === 0 ? session.roles === 0 : (session.roles & roleMask) !== roleMask) {
    const names = Object.entries(ROLE)
      .filter(([, bit]) => (roleMask & bit) !== 0)
      .map(([name]) => name);
    throw new ForbiddenError(`this needs the ${names.join("+") || "participant"} role on the participant registry`, {
      textCode: "role_required",
      params: { roles: names.join("+") || "participant" },
    });
  }
}

export interface ReadContext {
  /** The route, for the access log, e.g. "GET /api/enterprises/:address/metrics". */
  resource: string;
  applicationId?: string;
  requestId?: string;
}

export interface ReadGrant {
  basis: "self" | "operator" | "consent";
  /** Scopes in force for this reader (all for self and operator): lets a route say what else is hidden. */
  scopes: number;
}

export interface Authorizer {
  /** The grant for this read (logged when the reader is not the enterprise), or 401/403. */
  authorizeEnterpriseRead(
    session: Session | undefined,
    enterprise: Address,
    required: readonly ScopeName[],
    ctx: ReadContext,
  ): Promise<ReadGrant>;
  /** The same check, answering null instead of 403 (for records that serve consent-scoped parts only while it holds). */
  tryEnterpriseRead(session: Session, enterprise: Address, required: readonly ScopeName[], ctx: ReadContext): Promise<ReadGrant | null>;
}

const ALL = scopeMask(Object.keys(SCOPE) as ScopeName[]);

export function createAuthorizer({ authority, accessLog }: { authority: ChainAuthority; accessLog: AccessLog }): Authorizer {
  const authorizer: Authorizer = {
    async tryEnterpriseRead(session, enterprise, required, ctx) {
      try {
        return await authorizer.authorizeEnterpriseRead(session, enterprise, required, ctx);
      } catch (err) {
        if (err instanceof ForbiddenError) return null;
        throw err;
      }
    },

    async authorizeEnterpriseRead(session, enterprise, required, ctx) {
      if (!session) throw new UnauthorizedError();
      if (session.address === enterprise) return { basis: "self", scopes: ALL };
      const requiredMask = scopeMask(required);
      if (session.operator) {
        await accessLog.append({
          enterprise,
          reader: session.address,
          basis: "operator",
          scopes: scopeNames(requiredMask),
          resource: ctx.resource,
          applicationId: ctx.applicationId,
          requestId: ctx.requestId,
        });
        return { basis: "operator", scopes: ALL };
      }
      if ((session.roles & ROLE.LENDER) === 0) {
        throw new ForbiddenError("only the enterprise itself, a lender it granted consent to, or the operator may read this", {
          textCode: "not_a_reader",
          params: {},
        });
      }
      const consent = await authority.consentInForce(enterprise, session.address);
      const missing = requiredMask & ~consent.scopes;
      if (missing !== 0) {
        const { textCode, why } =
          consent.grant.grantedAt === 0
            ? { textCode: "consent_none", why: "no consent was granted" }
            : consent.grant.revokedAt !== 0 && consent.at >= consent.grant.revokedAt
              ? { textCode: "consent_revoked", why: "the consent was revoked" }
              : consent.at >= consent.grant.expiresAt
                ? { textCode: "consent_expired", why: "the consent has expired" }
                : { textCode: "consent_not_covering", why: "the consent does not cover it" };
        const scopes = scopeNames(missing).join(", ");
        throw new ForbiddenError(`${why}: scopes ${scopes} of ${enterprise} are not granted to you`, {
          textCode,
          params: { scopes, enterprise },
        });
      }
      await accessLog.append({
        enterprise,
        reader: session.address,
        basis: "consent",
        scopes: scopeNames(requiredMask),
        resource: ctx.resource,
        applicationId: ctx.applicationId,
        requestId: ctx.requestId,
        consent: {
          scopes: scopeNames(consent.grant.scopes),
          grantedAt: consent.grant.grantedAt,
          expiresAt: consent.grant.expiresAt,
          checkedAt: consent.at,
        },
      });
      return { basis: "consent", scopes: consent.scopes };
    },
  };
  return authorizer;
}
