/**
 * Sign-In with Ethereum (EIP-4361) with viem's `viem/siwe`: the server hands out single-use nonces and
 * accepts a signed message only for its own domain and URI, its chain id, a nonce it issued and has not
 * seen back, and within the message's validity window (Issued At no later than now plus a small clock
 * skew). Contract wallets (ERC-1271) are checked with viem against the chain. Refusals say which rule
 * failed in the service's own words; nothing of the parser's state is echoed.
 *
 * Nonces are bounded: at most MAX_NONCES_PER_CLIENT outstanding per client (its own oldest gives way),
 * and at most MAX_OUTSTANDING_NONCES in all; when that is reached new requests are refused (429), so no
 * flood evicts the nonce a waiting user is about to sign with. They are kept in this process's memory,
 * or with DATABASE_URL in PostgreSQL (table siwe_nonces), where a nonce one process issued signs in on
 * any other (a proxy may send the two requests to different processes) and is taken once by one
 * DELETE ... RETURNING, so a message is accepted once across all processes.
 */
import { generateSiweNonce, parseSiweMessage } from "viem/siwe";
import { verifyMessage, type Address, type Hex, type PublicClient } from "viem";
import { ApiError, TooManyRequestsError, type ErrorText } from "../domain/errors";
import type { Database } from "../store/postgres/db";

const NONCE_TTL_MS = 10 * 60 * 1000;
export const MAX_OUTSTANDING_NONCES = 50_000;
export const MAX_NONCES_PER_CLIENT = 8;
/** How far ahead of the service's clock a message's Issued At (or Not Before) may be. */
export const MAX_CLOCK_SKEW_SECONDS = 120;

/** A refused sign-in: the rule that failed in English, and as a code for the sign-in box in the user's language. */
export class SiweError extends ApiError {
  constructor(message: string, text: ErrorText, field = "message") {
    super(401, "siwe_rejected", message, field, { text });
  }
}

export interface SiweVerifier {
  /** A fresh nonce for `client` (the caller's IP address). */
  issueNonce(client: string): Promise<string>;
  /** Checks a signed message; consumes its nonce whatever the outcome. Returns the signer and expiry. */
  verify(input: { message: string; signature: Hex; domains: string[] }): Promise<{ address: Address; expiresAt?: number }>;
  /** Outstanding nonces (for tests and metrics). */
  outstanding(): Promise<number>;
}

/** Where the outstanding nonces are kept, with their bounds (see the top of the file). */
export interface NonceBook {
  /** A fresh nonce for `client`; a TooManyRequestsError when MAX_OUTSTANDING_NONCES are out. */
  issue(client: string): Promise<string>;
  /** Consumes `nonce`: true when it was issued, has not expired and was not taken before. */
  take(nonce: string): Promise<boolean>;
  outstanding(): Promise<number>;
}

interface NonceBookOptions {
  /** Milliseconds since the epoch. */
  now?: () => number;
  maxOutstanding?: number;
  maxPerClient?: number;
}

const tooManySignIns = () =>
  new TooManyRequestsError("too many sign-ins are in progress; try again in a few minutes", {
    textCode: "too_many_sign_ins",
    params: {},
  });

/** The nonces in this process's memory (one process, the lowdb setup). */
export function createMemoryNonceBook({
  now = () => Date.now(),
  maxOutstanding = MAX_OUTSTANDING_NONCES,
  maxPerClient = MAX_NONCES_PER_CLIENT,
}: NonceBookOptions = {}): NonceBook {
  // Insertion-ordered: the oldest outstanding nonce is first.
  const nonces = new Map<string, { at: number; client: string }>();
  const byClient = new Map<string, string[]>();

  function forget(nonce: string): void {
    const entry = nonces.get(nonce);
    if (!entry) return;
    nonces.delete(nonce);
    const list = (byClient.get(entry.client) ?? []).filter((n) => n !== nonce);
    if (list.length) byClient.set(entry.client, list);
    else byClient.delete(entry.client);
  }

  function dropExpired(): void {
    const cutoff = now() - NONCE_TTL_MS;
    for (const [nonce, entry] of nonces) {
      if (entry.at > cutoff) break;
      forget(nonce);
    }
  }

  return {
    async issue(client) {
      dropExpired();
      const mine = byClient.get(client) ?? [];
      // A client asking again gives up its own oldest nonce, never someone else's.
      while (mine.length >= maxPerClient) forget(mine.shift()!);
      if (nonces.size >= maxOutstanding) throw tooManySignIns();
      const nonce = generateSiweNonce();
      nonces.set(nonce, { at: now(), client });
      byClient.set(client, [...(byClient.get(client) ?? []), nonce]);
      return nonce;
    },
    async take(nonce) {
      const entry = nonces.get(nonce);
      forget(nonce);
      return entry !== undefined && now() - entry.at < NONCE_TTL_MS;
    },
    outstanding: async () => nonces.size,
  };
}

/**
 * The nonces in PostgreSQL (DATABASE_URL), shared by every process: the same bounds, counted over
 * the table. Issued at the service's clock (`issued_ms`), so the processes' clocks are what counts.
 */
export function createPostgresNonceBook(
  db: Database,
  { now = () => Date.now(), maxOutstanding = MAX_OUTSTANDING_NONCES, maxPerClient = MAX_NONCES_PER_CLIENT }: NonceBookOptions = {},
): NonceBook {
  return {
    issue(client) {
      return db.tx(async (q) => {
        const at = now();
        await q.query("DELETE FROM siwe_nonces WHERE issued_ms <= $1", [at - NONCE_TTL_MS]);
        // A client asking again gives up its own oldest nonces, never someone else's.
        await q.query(
          `DELETE FROM siwe_nonces WHERE nonce IN
             (SELECT nonce FROM siwe_nonces WHERE client = $1 ORDER BY issued_ms DESC, seq DESC OFFSET $2)`,
          [client, maxPerClient - 1],
        );
        const { rows } = await q.query<{ n: string }>("SELECT count(*) AS n FROM siwe_nonces");
        if (Number(rows[0].n) >= maxOutstanding) throw tooManySignIns();
        const nonce = generateSiweNonce();
        await q.query("INSERT INTO siwe_nonces (nonce, client, issued_ms) VALUES ($1, $2, $3)", [nonce, client, at]);
        return nonce;
      });
    },
    async take(nonce) {
      const { rows } = await db.pool.query<{ issued_ms: string }>("DELETE FROM siwe_nonces WHERE nonce = $1 RETURNING issued_ms", [nonce]);
      return rows.length === 1 && now() - Number(rows[0].issued_ms) < NONCE_TTL_MS;
    },
    async outstanding() {
      const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM siwe_nonces WHERE issued_ms > $1", [
        now() - NONCE_TTL_MS,
      ]);
      return Number(rows[0].n);
    },
  };
}

const REQUIRED_FIELDS = ["domain", "address", "uri", "version", "chainId", "nonce", "issuedAt"] as const;

const validDate = (d: Date | undefined) => d === undefined || !Number.isNaN(d.getTime());

export function createSiweVerifier({
  publicClient,
  chainId,
  now = () => Date.now(),
  nonces = createMemoryNonceBook({ now }),
}: {
  publicClient: PublicClient;
  chainId: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Where the nonces are kept (default: this process's memory). */
  nonces?: NonceBook;
}): SiweVerifier {
  return {
    issueNonce: (client) => nonces.issue(client),
    outstanding: () => nonces.outstanding(),

    async verify({ message, signature, domains }) {
      const parsed = parseSiweMessage(message);
      const missing = REQUIRED_FIELDS.filter((f) => parsed[f] === undefined || parsed[f] === "");
      if (
        missing.length ||
        parsed.version !== "1" ||
        !validDate(parsed.issuedAt) ||
        !validDate(parsed.expirationTime) ||
        !validDate(parsed.notBefore)
      ) {
        const what = missing.length ? `missing or malformed ${missing.join(", ")}` : "a malformed version or date";
        const text: ErrorText = missing.length
          ? { textCode: "siwe_message_missing", params: { fields: missing.join(", ") } }
          : { textCode: "siwe_message_malformed", params: {} };
        throw new ApiError(400, "invalid_input", `not an EIP-4361 message: ${what}`, "message", { text });
      }
      // Consume the nonce before anything else can fail, so a message is never accepted twice.
      const nonceKnown = await nonces.take(parsed.nonce!);
      const domain = parsed.domain!;
      if (!domains.includes(domain))
        throw new SiweError(`domain ${domain} is not this service (${domains.join(", ")})`, {
          textCode: "siwe_wrong_domain",
          params: { domain, domains: domains.join(", ") },
        });
      let uriHost: string | undefined;
      try {
        const uri = new URL(parsed.uri!);
        if (uri.protocol === "http:" || uri.protocol === "https:") uriHost = uri.host;
      } catch {
        uriHost = undefined;
      }
      if (uriHost !== domain)
        throw new SiweError(`the message's URI is not on this service's origin (${domain})`, {
          textCode: "siwe_wrong_uri",
          params: { domain },
        });
      if (parsed.chainId !== chainId)
        throw new SiweError(`chain id ${parsed.chainId} is not this network's ${chainId}`, {
          textCode: "siwe_wrong_chain",
          params: { chainId: String(parsed.chainId), expected: String(chainId) },
        });
      if (!nonceKnown)
        throw new SiweError("nonce unknown, expired or already used: ask /api/auth/nonce for a new one", {
          textCode: "siwe_nonce_unknown",
          params: {},
        });
      const nowMs = now();
      const skewMs = MAX_CLOCK_SKEW_SECONDS * 1000;
      if (parsed.issuedAt!.getTime() > nowMs + skewMs)
        throw new SiweError("the message's Issued At is in the future", { textCode: "siwe_issued_in_future", params: {} });
      if (parsed.notBefore && parsed.notBefore.getTime() > nowMs + skewMs)
        throw new SiweError("the message is not valid yet (Not Before)", { textCode: "siwe_not_yet_valid", params: {} });
      if (parsed.expirationTime && parsed.expirationTime.getTime() <= nowMs)
        throw new SiweError("the message has expired (Expiration Time)", { textCode: "siwe_expired", params: {} });

      const address = parsed.address!;
      // An EOA's signature is recovered locally; anything else is asked of the chain (ERC-1271 wallets).
      const valid =
        (await verifyMessage({ address, message, signature }).catch(() => false)) ||
        (await publicClient.verifyMessage({ address, message, signature }).catch(() => false));
      if (!valid)
        throw new SiweError("the signature is not the message's account's", { textCode: "siwe_bad_signature", params: {} }, "signature");
      const expiresAt = parsed.expirationTime ? Math.floor(parsed.expirationTime.getTime() / 1000) : undefined;
      return { address: address.toLowerCase() as Address, expiresAt };
    },
  };
}
