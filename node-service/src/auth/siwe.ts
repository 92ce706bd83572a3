/**
 * Sign-In with Ethereum (EIP-4361) with the `siwe` package: the server hands out single-use nonces and
 * accepts a signed message only for its own domain, its chain id, a nonce it issued and has not seen
 * back, and within the message's validity window. Contract wallets (ERC-1271) are checked with viem.
 */
import { SiweErrorType, SiweMessage, generateNonce } from "siwe";
import type { Address, Hex, PublicClient } from "viem";
import { ApiError } from "../domain/errors";

const NONCE_TTL_MS = 10 * 60 * 1000;
const MAX_OUTSTANDING_NONCES = 50_000;

export class SiweError extends ApiError {
  constructor(message: string, field = "message") {
    super(401, "siwe_rejected", message, field);
  }
}

export interface SiweVerifier {
  issueNonce(): string;
  /** Checks a signed message; consumes its nonce whatever the outcome. Returns the signer and expiry. */
  verify(input: { message: string; signature: Hex; domains: string[] }): Promise<{ address: Address; expiresAt?: number }>;
}

export function createSiweVerifier({ publicClient, chainId }: { publicClient: PublicClient; chainId: number }): SiweVerifier {
  // Insertion-ordered: the oldest outstanding nonce is first when the map must shed one.
  const nonces = new Map<string, number>();

  function takeNonce(nonce: string): boolean {
    const issuedAt = nonces.get(nonce);
    nonces.delete(nonce);
    return issuedAt !== undefined && Date.now() - issuedAt < NONCE_TTL_MS;
  }

  return {
    issueNonce() {
      if (nonces.size >= MAX_OUTSTANDING_NONCES) nonces.delete(nonces.keys().next().value as string);
      const nonce = generateNonce();
      nonces.set(nonce, Date.now());
      return nonce;
    },

    async verify({ message, signature, domains }) {
      let parsed: SiweMessage;
      try {
        parsed = new SiweMessage(message);
      } catch (err) {
        throw new ApiError(400, "invalid_input", `not an EIP-4361 message: ${err instanceof Error ? err.message : String(err)}`, "message");
      }
      // Consume the nonce before anything else can fail, so a message is never accepted twice.
      const nonceKnown = takeNonce(parsed.nonce);
      if (!domains.includes(parsed.domain)) throw new SiweError(`domain ${parsed.domain} is not this service (${domains.join(", ")})`);
      if (parsed.chainId !== chainId) throw new SiweError(`chain id ${parsed.chainId} is not this network's ${chainId}`);
      if (!nonceKnown) throw new SiweError("nonce unknown, expired or already used: ask /api/auth/nonce for a new one");

      const result = await parsed.verify(
        { signature, domain: parsed.domain, nonce: parsed.nonce, time: new Date().toISOString() },
        {
          suppressExceptions: true,
          // Called only when ecrecover does not give the message's address: ask the chain (ERC-1271 wallets).
          verificationFallback: async (_params, _opts, msg) => {
            const success = await publicClient
              .verifyMessage({ address: msg.address as Address, message: msg.prepareMessage(), signature })
              .catch(() => false);
            return success ? { success, data: msg } : { success, data: msg, error: { type: SiweErrorType.INVALID_SIGNATURE } };
          },
        },
      );
      if (!result.success) {
        // siwe reports a SiweError ({ type }) or, for internal failures, a plain Error.
        const error = result.error as { type?: string; message?: string } | undefined;
        const reason = String(error?.type ?? error?.message ?? "rejected");
        throw new SiweError(`sign-in message rejected: ${reason}`, /signature/i.test(reason) ? "signature" : "message");
      }
      const expiresAt = parsed.expirationTime ? Math.floor(new Date(parsed.expirationTime).getTime() / 1000) : undefined;
      return { address: parsed.address.toLowerCase() as Address, expiresAt };
    },
  };
}
