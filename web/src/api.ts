/** The service's HTTP API, as the pages use it. Amounts arrive as decimal strings. */

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const res = await fetch(path, {
    credentials: "same-origin",
    ...rest,
    headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(rest.headers ?? {}) },
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  const type = res.headers.get("content-type") ?? "";
  const body = type.includes("application/json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string; field?: string } })?.error;
    throw new ApiRequestError(res.status, err?.code ?? "error", err?.message ?? `HTTP ${res.status}`, err?.field);
  }
  return body as T;
}

export interface PublicConfig {
  chainId: number;
  contracts: Record<string, `0x${string}`>;
  publicRpcUrl: string;
  devAccounts: boolean;
  demoAccounts?: { address: `0x${string}`; index: number; role: string; name: string }[];
}

export interface Me {
  address: `0x${string}`;
  roles: number;
  operator: boolean;
  name?: string;
}

export const ROLE = { SUPPLIER: 1, BUYER: 2, LENDER: 4, AUDITOR: 8 } as const;

export const SCOPES: { bit: number; key: string; label: string }[] = [
  { bit: 1 << 0, key: "identity", label: "Identity (KYC dossier)" },
  { bit: 1 << 1, key: "orderHistory", label: "Order history" },
  { bit: 1 << 2, key: "receivables", label: "Receivables" },
  { bit: 1 << 3, key: "paymentHistory", label: "Payment history" },
  { bit: 1 << 4, key: "loans", label: "Loans and repayments" },
  { bit: 1 << 5, key: "counterparties", label: "Counterparties" },
  { bit: 1 << 6, key: "documents", label: "Trade documents" },
  { bit: 1 << 7, key: "metrics", label: "Derived metrics" },
  { bit: 1 << 8, key: "riskFlags", label: "Risk flags" },
  { bit: 1 << 9, key: "taxRecords", label: "Tax records" },
  { bit: 1 << 10, key: "bankFlows", label: "Bank and e-commerce flows" },
];
