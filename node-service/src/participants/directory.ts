/**
 * The participants directory: registered names (the operator's KYC data) with what proves them.
 *
 * The operator publishes each participant's display name with the opening of its on-chain commitment
 * (DATA_DIR/participant-names.json, written by the seed on the demo network; domain/name-commitment.ts
 * has the rule). The directory serves a name with its opening, the commitment the registry holds for
 * that account, and a status that says what was checked:
 * - "verified": the opening recomputes to the registry's displayNameHash (as indexed from the chain);
 * - "claim": a name the operator's file gives but that does not match the registry (or the account is
 *   not admitted): shown only as a claim, never as the participant's name;
 * - no name: the operator published none.
 */
import path from "node:path";
import { z } from "zod";
import type { Hex } from "viem";
import type { Address, IndexState } from "../domain/entities";
import { openingMatches, type NameOpening } from "../domain/name-commitment";
import { readFileIfExists, writeFileAtomic } from "../store/atomic-file";

export const PARTICIPANT_NAMES_FORMAT = "scf-participant-names/1";
export const PARTICIPANT_NAMES_FILE = "participant-names.json";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const EntrySchema = z.object({ address, name: z.string().min(1).max(200), salt: z.string().regex(/^0x[0-9a-fA-F]{64}$/) });
const FileSchema = z.object({ format: z.literal(PARTICIPANT_NAMES_FORMAT), names: z.array(z.unknown()) });

export interface ParticipantNameEntry {
  address: Address;
  name: string;
  salt: Hex;
}

export function participantNamesFileOf(dataDir: string): string {
  return path.join(dataDir, PARTICIPANT_NAMES_FILE);
}

/** Writes the operator's names file (atomically). */
export async function writeParticipantNames(dataDir: string, names: ParticipantNameEntry[]): Promise<void> {
  const file = { format: PARTICIPANT_NAMES_FORMAT, names: names.map((n) => ({ ...n, address: n.address.toLowerCase() })) };
  await writeFileAtomic(participantNamesFileOf(dataDir), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * The names the operator published (address lowercase -> opening); none when the file is missing.
 * A malformed file throws; a malformed entry is skipped (it proves nothing either way).
 */
export async function readParticipantNames(dataDir: string): Promise<Record<string, NameOpening>> {
  const text = await readFileIfExists(participantNamesFileOf(dataDir));
  if (text === null) return {};
  const file = FileSchema.parse(JSON.parse(text));
  const out: Record<string, NameOpening> = {};
  for (const raw of file.names) {
    const e = EntrySchema.safeParse(raw);
    if (e.success) out[e.data.address.toLowerCase()] = { name: e.data.name, salt: e.data.salt as Hex };
  }
  return out;
}

export type NameStatus = "verified" | "claim";

export interface DirectoryEntry {
  address: Address;
  /** ROLE bits on the registry (0 when not admitted). */
  roles: number;
  suspended: boolean;
  /** The name and its opening, when the operator published one. */
  name: string | null;
  salt: Hex | null;
  /** "verified" only when the opening matched the registry's commitment; null when there is no name. */
  status: NameStatus | null;
  /** The registry's displayNameHash for this account (as indexed), the value to recompute. */
  displayNameHash: Hex | null;
  /** What was checked, in words. */
  detail: string;
}

/** One participant's directory entry, checked against the indexed registry state. */
export function directoryEntry(
  state: Pick<IndexState, "participants">,
  names: Record<string, NameOpening>,
  account: string,
): DirectoryEntry {
  const a = account.toLowerCase() as Address;
  const p = state.participants[a];
  const opening = names[a];
  const base = { address: a, roles: p?.roles ?? 0, suspended: p?.suspended ?? false, displayNameHash: p?.displayNameHash ?? null };
  if (!opening) return { ...base, name: null, salt: null, status: null, detail: "the operator published no name for this account" };
  if (!p)
    return {
      ...base,
      name: opening.name,
      salt: opening.salt,
      status: "claim",
      detail: "not matched: the account is not an admitted participant",
    };
  const ok = openingMatches(opening, p.displayNameHash);
  return {
    ...base,
    name: opening.name,
    salt: opening.salt,
    status: ok ? "verified" : "claim",
    detail: ok
      ? 'sha256("scf-name-v1" 0x00 salt name) is the registry\'s displayNameHash'
      : "not matched: the name and salt do not recompute to the registry's displayNameHash",
  };
}

/** Every admitted participant and every published name, ordered by address. */
export function directoryEntries(state: Pick<IndexState, "participants">, names: Record<string, NameOpening>): DirectoryEntry[] {
  const accounts = new Set([...Object.keys(state.participants), ...Object.keys(names)].map((a) => a.toLowerCase()));
  return [...accounts].sort().map((a) => directoryEntry(state, names, a));
}

/**
 * Verified names for synchronous callers (the agreement document is rendered inside a decision): the
 * operator's file is re-read at most every `ttlMs` in the background; a name is returned only when its
 * opening matches the registry's commitment in the index at the time of the call.
 */
export function createNameBook(opts: { dataDir: string; ttlMs?: number; now?: () => number }) {
  const ttl = opts.ttlMs ?? 5000;
  const now = opts.now ?? Date.now;
  let names: Record<string, NameOpening> = {};
  let loadedAt = -Infinity;
  let loading: Promise<void> | null = null;
  async function refresh(): Promise<void> {
    loading ??= readParticipantNames(opts.dataDir)
      .then((n) => {
        names = n;
        loadedAt = now();
      })
      .catch(() => {
        loadedAt = now(); // a broken file proves no names; try again after the ttl
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }
  return {
    refresh,
    /** `index`: the registry entries the caller reads (the index in memory, or read on demand on a reader). */
    verifiedName(address: string, index: Pick<IndexState, "participants">): string | undefined {
      if (now() - loadedAt > ttl) void refresh();
      const e = directoryEntry(index, names, address);
      return e.status === "verified" && e.name !== null ? e.name : undefined;
    },
  };
}
