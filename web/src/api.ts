/** The service's HTTP API, as the pages use it. Amounts arrive as decimal strings. */
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { tNs } from "./i18n";

/** The service's English message as a message code with string parameters (see ErrorText in the service). */
export interface ServiceErrorText {
  textCode: string;
  params: Record<string, string>;
}

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly text?: ServiceErrorText,
  ) {
    super(message);
  }
}

/** The code of an ApiRequestError when no answer came at all. */
export const UNREACHABLE = "unreachable";
export const isUnreachable = (err: unknown): boolean => err instanceof ApiRequestError && err.code === UNREACHABLE;

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  let res: Response;
  try {
    res = await fetch(path, {
      credentials: "same-origin",
      ...rest,
      headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(rest.headers ?? {}) },
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  } catch (err) {
    // fetch rejects only when no answer came (offline, service down): say that, not "Failed to fetch".
    if (rest.signal?.aborted) throw err;
    const tn = tNs("nav");
    throw new ApiRequestError(0, UNREACHABLE, tn("unreachable.message"));
  }
  const type = res.headers.get("content-type") ?? "";
  const body = type.includes("application/json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; field?: string; text?: ServiceErrorText } })?.error;
    throw new ApiRequestError(res.status, err?.code ?? "error", err?.message ?? `HTTP ${res.status}`, err?.field, err?.text);
  }
  return body as T;
}

export interface PublicConfig {
  chainId: number;
  contracts: Record<string, `0x${string}`>;
  publicRpcUrl: string;
  /** Block explorer URL of a transaction, "{hash}" standing for its hash; null when not configured. */
  explorerTxUrl?: string | null;
  devAccounts: boolean;
  demoAccounts?: { address: `0x${string}`; index: number; role: string; name: string }[];
}

export interface Me {
  address: `0x${string}`;
  roles: number;
  operator: boolean;
  name?: string;
}

/** Role and consent-scope bits: the same constants the service uses (node-service/src/chain/eip712.ts). */
export { ROLE };

/**
 * The consent scopes in the order the forms list them; `label` is the scope's name in the current
 * language (web/src/i18n/locales/<lang>/common.json, scopes.<key>), read when used.
 */
const SCOPE_ORDER: (keyof typeof SCOPE)[] = [
  "identity",
  "orderHistory",
  "receivables",
  "paymentHistory",
  "loans",
  "counterparties",
  "documents",
  "metrics",
  "riskFlags",
  "taxRecords",
  "bankFlows",
];

export const SCOPES: { bit: number; key: string; readonly label: string }[] = SCOPE_ORDER.map((key) => ({
  bit: SCOPE[key],
  key,
  get label() {
    return tNs("common")(`scopes.${key}`);
  },
}));
