/**
 * The access log: every read of an enterprise's data by someone other than that enterprise, with who,
 * when, which scopes, on what basis (the consent in force, or the operator's role) and for which
 * application. Append-only JSON Lines under DATA_DIR (one line per read, never rewritten); a line torn by
 * a crash is skipped on load. The enterprise reads its own entries at GET /api/enterprises/:address/access-log.
 */
import { mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { Address } from "../domain/entities";
import { readFileIfExists } from "../store/atomic-file";

export interface AccessLogEntry {
  id: string;
  /** ISO 8601 wall-clock time of the read. */
  at: string;
  enterprise: Address;
  reader: Address;
  /**
   * Why the read was allowed: the enterprise's consent in force, the operator's or an auditor's role,
   * being a party of the record read (a document linked to a shared order), a consortium member's
   * session (trade evidence), or the underwriting policy (a debtor's tier and advance rate only).
   */
  basis: "consent" | "operator" | "auditor" | "party" | "member" | "policy";
  /** Names of the scopes the read used (see SCOPE). */
  scopes: string[];
  /** The route read, e.g. "GET /api/enterprises/:address/metrics". */
  resource: string;
  applicationId?: string;
  /** The consent in force at the read (block seconds), when the basis is consent. */
  consent?: { scopes: string[]; grantedAt: number; expiresAt: number; checkedAt: number };
  requestId?: string;
}

export interface AccessLog {
  append(entry: Omit<AccessLogEntry, "id" | "at">): Promise<AccessLogEntry>;
  /** Newest first. */
  forEnterprise(enterprise: Address): AccessLogEntry[];
  close(): Promise<void>;
}

const FILE_NAME = "access-log.jsonl";

export async function openAccessLog({ dataDir }: { dataDir: string }): Promise<AccessLog> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, FILE_NAME);
  const byEnterprise = new Map<Address, AccessLogEntry[]>();
  const index = (entry: AccessLogEntry) => {
    const list = byEnterprise.get(entry.enterprise) ?? [];
    list.push(entry);
    byEnterprise.set(entry.enterprise, list);
  };
  for (const line of ((await readFileIfExists(file)) ?? "").split("\n")) {
    if (!line.trim()) continue;
    try {
      index(JSON.parse(line) as AccessLogEntry);
    } catch {
      // A torn last line from a crash: the read it describes was never answered.
    }
  }
  const handle: FileHandle = await open(file, "a", 0o600);
  let writing: Promise<unknown> = Promise.resolve();

  return {
    async append(fields) {
      const entry: AccessLogEntry = { id: randomUUID(), at: new Date().toISOString(), ...fields };
      // One write per line in order; the data is served only after its line is written.
      writing = writing.catch(() => undefined).then(() => handle.write(`${JSON.stringify(entry)}\n`));
      await writing;
      index(entry);
      return entry;
    },
    forEnterprise(enterprise) {
      return [...(byEnterprise.get(enterprise) ?? [])].reverse();
    },
    async close() {
      await writing.catch(() => undefined);
      await handle.sync().catch(() => undefined);
      await handle.close();
    },
  };
}
