/**
 * Sign-In with Ethereum: nonce, verify (creates a session), logout, me. The session token travels as an
 * HttpOnly SameSite=Strict cookie (what EventSource can send) or as `Authorization: Bearer <token>`.
 */
import type { Request, Response } from "express";
import { z } from "zod";
import { roleNames } from "../../chain/eip712";
import type { SessionStore, StoredSession } from "../../auth/sessions";
import { requireSession } from "../authorize";
import type { RouteContext } from "../app";

const SESSION_COOKIE = "scf_session";

/** The token from the bearer header or the session cookie, with its live session. */
export async function resolveSession(req: Request, sessions: SessionStore): Promise<{ token: string; stored: StoredSession } | null> {
  let token: string | undefined;
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) token = auth.slice(7).trim();
  else if (req.headers.cookie) {
    for (const part of req.headers.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) token = decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  if (!token) return null;
  const stored = await sessions.get(token);
  return stored ? { token, stored } : null;
}

function setSessionCookie(req: Request, res: Response, token: string, maxAgeSeconds: number): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "strict", secure: req.secure, path: "/", maxAge: maxAgeSeconds * 1000 });
}

export const VerifyBody = z.object({
  message: z.string().min(1).max(4096).describe("The EIP-4361 message, exactly as signed"),
  signature: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})+$/, "must be 0x-prefixed hex bytes")
    .max(8192)
    .transform((s) => s as `0x${string}`)
    .describe("The wallet's personal_sign signature (EOA) or ERC-1271 signature"),
});

export function mountAuthRoutes({ deps, table }: RouteContext): void {
  const { sessions, siwe, authority, config } = deps;

  table.add(
    {
      method: "get",
      path: "/api/auth/nonce",
      summary: "A single-use nonce for a Sign-In with Ethereum message",
      tag: "auth",
      auth: "public",
      errors: [429],
    },
    async ({ req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      const domains = deps.siweDomains();
      return { nonce: await siwe.issueNonce(req.ip ?? "unknown"), domain: domains[0], chainId: config.CHAIN_ID, expiresInSeconds: 600 };
    },
  );

  table.add(
    {
      method: "post",
      path: "/api/auth/verify",
      summary: "Check a signed SIWE message and open a session (cookie and bearer token)",
      tag: "auth",
      auth: "public",
      body: VerifyBody,
      errors: [400, 401, 413, 429],
    },
    async ({ body, req, res }) => {
      const { address, expiresAt: messageExpiry } = await siwe.verify({ ...body, domains: deps.siweDomains() });
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = Math.min(now + config.SESSION_TTL_SECONDS, messageExpiry ?? Number.MAX_SAFE_INTEGER);
      const token = await sessions.create({ address, chainId: config.CHAIN_ID, issuedAt: now, expiresAt });
      const identity = await authority.identityOf(address);
      setSessionCookie(req, res, token, expiresAt - now);
      req.log.info({ address }, "signed in");
      return { token, address, roles: identity.roles, roleNames: roleNames(identity.roles), operator: identity.operator, expiresAt };
    },
  );

  table.add(
    { method: "post", path: "/api/auth/logout", summary: "End the current session", tag: "auth", auth: "session", errors: [401, 429] },
    async ({ res }) => {
      requireSession(res);
      await sessions.revoke(String(res.locals.sessionToken));
      res.clearCookie(SESSION_COOKIE, { path: "/" });
      return { signedOut: true };
    },
  );

  table.add(
    {
      method: "get",
      path: "/api/auth/me",
      summary: "The caller's address and its roles as the chain says now",
      tag: "auth",
      auth: "session",
      errors: [401, 429],
    },
    ({ res }) => {
      const session = requireSession(res);
      return { ...session, roleNames: roleNames(session.roles), expiresAt: res.locals.sessionExpiresAt as number };
    },
  );

  // What a page asks on load (a new tab, a reload): signed in or not is an answer, not an error.
  table.add(
    {
      method: "get",
      path: "/api/auth/session",
      summary: "Whether the caller's cookie or token is a live session, and if so the same fields as /api/auth/me",
      tag: "auth",
      auth: "public",
      errors: [429],
    },
    ({ res }) => {
      const session = res.locals.session as { address: string; roles: number; operator: boolean } | undefined;
      if (!session) return { signedIn: false };
      return { signedIn: true, ...session, roleNames: roleNames(session.roles), expiresAt: res.locals.sessionExpiresAt as number };
    },
  );
}
