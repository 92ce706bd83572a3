/**
 * The consent state per block, kept without a chain read per request.
 *
 * Up to the indexer's tip, consents are the index's (ConsentRegistry events, reorg-safe there). Above
 * it, a head watcher polls the node (one `eth_getBlockByNumber("latest")` per poll, and one filtered
 * `eth_getLogs` over the blocks it has not seen when the head moved) and keeps the ConsentRegistry
 * events of the blocks between the index's tip and the head: so a revocation takes effect from the block
 * that includes it, whatever the indexer's confirmations, at most one poll interval after that block is
 * produced. The same watcher reports every ParticipantRegistry event (admission, roles, suspension,
 * AccessControl grants) so the role cache forgets that account at once.
 *
 * The answer is served only while the watcher is current (its last successful poll is at most
 * `staleAfterMs` old); otherwise `current` answers null and the caller reads the chain itself, so a
 * stalled watcher never serves an old consent. Reorgs: the watcher keeps the hash of the last block it
 * saw; when that block is no longer on chain its events are dropped and fetched again from the index's
 * tip.
 */
import { parseEventLogs, type Abi, type Address, type Hex, type PublicClient } from "viem";
import pino, { type Logger } from "pino";
import { abiOf, type Deployment } from "../chain/contracts";
import type { ConsentEntity } from "../domain/entities";
import type { ConsentInForce } from "./chain-authority";

/** What the watcher reads from the index: its tip, and one consent record at that tip. */
export interface ConsentIndexView {
  /** The last block the index has applied (its state below reflects blocks up to it). */
  indexedBlock(): number;
  /** The index's consent record of (borrower, lender), lowercase addresses (see consentRecord in indexer/reducers/consentRegistry.ts). */
  consent(borrower: Address, lender: Address): ConsentEntity | undefined;
  /** Block time (seconds) of the index's tip, 0 when unknown: an index ahead of the watcher moves the clock of the answers. */
  indexedBlockTime?(): number;
}

export interface ConsentWatcher {
  /** The consent in force now, from the index plus the blocks above its tip; null while the watcher is not current. */
  current(borrower: Address, lender: Address): ConsentInForce | null;
  /** The newest block whose time (and consent events) `current` reflects (-1 while not current). */
  seenBlock(): number;
  /**
   * The chain's newest block as the watcher's last poll read it, when that read began at most
   * `maxAgeMs` ago and the poll reached it (null otherwise): a clock without a chain read per request.
   */
  head(maxAgeMs: number): { number: number; time: number } | null;
  /** Called with the (lowercase) account of every ParticipantRegistry event in the blocks the watcher reads. */
  onParticipantEvent(fn: (account: Address) => void): () => void;
  /**
   * Changes each time the watcher starts over from the index's tip (the blocks it saw left the chain, or
   * the index rolled back): participant events from before may not all have been reported.
   */
  epoch(): number;
  /** One poll now (also what the timer runs). */
  poll(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CreateConsentWatcherParameters {
  publicClient: PublicClient;
  deployment: Deployment;
  index: ConsentIndexView;
  pollIntervalMs: number;
  /** Answers only while the last successful poll is at most this old (default max(3 polls, 3 s)). */
  staleAfterMs?: number;
  /** Largest getLogs range in blocks (default 2000); a longer gap is fetched over several polls. */
  maxBlockRange?: number;
  /** Largest number of getLogs calls in one poll (default 8). */
  maxRangesPerPoll?: number;
  logger?: Logger;
}

interface Grant {
  scopes: number;
  grantedAt: number;
  expiresAt: number;
  revokedAt: number;
}

interface OverlayEvent {
  blockNumber: number;
  name: "ConsentGranted" | "ConsentRevoked";
  scopes: number;
  expiresAt: number;
  at: number;
}

/** ConsentRegistry._scopesAt, the same rule off chain. */
export function scopesAt(g: Grant, at: number): number {
  if (g.grantedAt === 0 || at < g.grantedAt || at >= g.expiresAt) return 0;
  if (g.revokedAt !== 0 && at >= g.revokedAt) return 0;
  return g.scopes;
}

export function createConsentWatcher(params: CreateConsentWatcherParameters): ConsentWatcher {
  const { publicClient, deployment, index, pollIntervalMs } = params;
  const staleAfterMs = params.staleAfterMs ?? Math.max(3 * pollIntervalMs, 3000);
  const maxBlockRange = params.maxBlockRange ?? 2000;
  const maxRangesPerPoll = params.maxRangesPerPoll ?? 8;
  const logger = params.logger ?? pino({ name: "consent-watch", level: process.env.LOG_LEVEL ?? "warn" });
  const consentAddress = deployment.contracts.ConsentRegistry.toLowerCase() as Address;
  const registryAddress = deployment.contracts.ParticipantRegistry.toLowerCase() as Address;
  const consentAbi = abiOf("ConsentRegistry") as Abi;
  const registryAbi = abiOf("ParticipantRegistry") as Abi;
  const listeners = new Set<(account: Address) => void>();

  /** ConsentRegistry events above `coveredFrom - 1`, by "borrower:lender", in chain order. */
  let overlay = new Map<string, OverlayEvent[]>();
  /** First block the overlay covers; null: nothing covered yet. */
  let coveredFrom: number | null = null;
  /** The last block fetched, with its hash and time. */
  let last: { number: number; hash: Hex; time: number } | null = null;
  let lastOkAt = -Infinity;
  /** When the head of the last poll that reached it was requested (performance.now()). */
  let headReadAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let stopped = false;

  /** Incremented by reset(). */
  let resets = 0;

  function reset(): void {
    resets += 1;
    overlay = new Map();
    coveredFrom = null;
    last = null;
    headReadAt = -Infinity;
  }

  async function fetchRange(from: number, to: number): Promise<void> {
    const logs = await publicClient.getLogs({ address: [consentAddress, registryAddress], fromBlock: BigInt(from), toBlock: BigInt(to) });
    const consentLogs = logs.filter((l) => l.address.toLowerCase() === consentAddress);
    const registryLogs = logs.filter((l) => l.address.toLowerCase() === registryAddress);
    for (const ev of parseEventLogs({ abi: consentAbi, logs: consentLogs, strict: false })) {
      if (ev.eventName !== "ConsentGranted" && ev.eventName !== "ConsentRevoked") continue;
      const a = ev.args as Record<string, unknown>;
      const key = `${String(a.borrower).toLowerCase()}:${String(a.lender).toLowerCase()}`;
      const list = overlay.get(key) ?? [];
      list.push({
        blockNumber: Number(ev.blockNumber),
        name: ev.eventName,
        scopes: Number(a.scopes ?? 0),
        expiresAt: Number(a.expiresAt ?? 0),
        at: Number(a.at),
      });
      overlay.set(key, list);
    }
    for (const ev of parseEventLogs({ abi: registryAbi, logs: registryLogs, strict: false })) {
      const account = (ev.args as Record<string, unknown>).account;
      if (typeof account !== "string") continue;
      for (const fn of listeners) {
        try {
          fn(account.toLowerCase() as Address);
        } catch (err) {
          logger.error({ err }, "participant event listener failed");
        }
      }
    }
  }

  async function doPoll(): Promise<void> {
    const readAt = performance.now();
    const head = await publicClient.getBlock({ blockTag: "latest" });
    const headNumber = Number(head.number);
    const tip = index.indexedBlock();
    // The last block seen must still be on chain; otherwise what was read above the index is dropped.
    if (last && !(headNumber === last.number && head.hash === last.hash)) {
      const stillThere =
        headNumber > last.number &&
        (head.parentHash === last.hash || (await publicClient.getBlock({ blockNumber: BigInt(last.number) })).hash === last.hash);
      if (!stillThere) {
        logger.warn({ block: last.number }, "the last block the consent watcher saw left the chain: reading again from the index's tip");
        reset();
      }
    }
    // The index rolled back below what the overlay covers: start again from its tip.
    if (coveredFrom !== null && tip < coveredFrom - 1) reset();
    // Every block after the last one seen (its participant events matter even when the index has it too).
    let from = last ? last.number + 1 : tip + 1;
    if (coveredFrom === null) coveredFrom = from;
    for (let ranges = 0; from <= headNumber && ranges < maxRangesPerPoll; ranges++) {
      const to = Math.min(headNumber, from + maxBlockRange - 1);
      await fetchRange(from, to);
      from = to + 1;
    }
    if (from <= headNumber) {
      // Still catching up (a gap longer than one poll's ranges): not current until the head is reached.
      lastOkAt = -Infinity;
      headReadAt = -Infinity;
      const reached = await publicClient.getBlock({ blockNumber: BigInt(from - 1) });
      last = { number: from - 1, hash: reached.hash as Hex, time: Number(reached.timestamp) };
      return;
    }
    last = { number: headNumber, hash: head.hash as Hex, time: Number(head.timestamp) };
    headReadAt = readAt;
    // Forget what the index now holds.
    const now = index.indexedBlock();
    for (const [key, list] of overlay) {
      const kept = list.filter((e) => e.blockNumber > now);
      if (kept.length === 0) overlay.delete(key);
      else if (kept.length !== list.length) overlay.set(key, kept);
    }
    lastOkAt = performance.now();
  }

  function poll(): Promise<void> {
    polling ??= doPoll().finally(() => (polling = null));
    return polling;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      poll()
        .catch((err: unknown) => logger.warn({ err }, "consent watcher poll failed; consents are read from the chain until it recovers"))
        .finally(schedule);
    }, pollIntervalMs);
  }

  return {
    current(borrower, lender) {
      if (!last || performance.now() - lastOkAt > staleAfterMs) return null;
      const b = borrower.toLowerCase() as Address;
      const l = lender.toLowerCase() as Address;
      const tip = index.indexedBlock();
      const record = index.consent(b, l);
      const grant: Grant = record
        ? { scopes: record.scopes, grantedAt: record.grantedAt, expiresAt: record.expiresAt, revokedAt: record.revokedAt ?? 0 }
        : { scopes: 0, grantedAt: 0, expiresAt: 0, revokedAt: 0 };
      for (const e of overlay.get(`${b}:${l}`) ?? []) {
        if (e.blockNumber <= tip) continue;
        if (e.name === "ConsentGranted") Object.assign(grant, { scopes: e.scopes, grantedAt: e.at, expiresAt: e.expiresAt, revokedAt: 0 });
        else grant.revokedAt = e.at;
      }
      // The chain's time has reached the time of the newest block seen (the watcher's head, or the index's
      // tip when the index is ahead of the watcher) and of every event known (block times only grow).
      const at = Math.max(Math.floor(Date.now() / 1000), last.time, index.indexedBlockTime?.() ?? 0, grant.grantedAt, grant.revokedAt);
      return { scopes: scopesAt(grant, at), at, blockNumber: BigInt(Math.max(tip, last.number)), grant };
    },
    // The block whose time the answers use: the watcher's newest block, or the index's tip when the index
    // is ahead and its tip's time is known (then an expiry at that time is seen).
    seenBlock() {
      if (!last || performance.now() - lastOkAt > staleAfterMs) return -1;
      const tip = index.indexedBlock();
      return tip > last.number && (index.indexedBlockTime?.() ?? 0) > 0 ? tip : last.number;
    },
    head(maxAgeMs) {
      if (!last || performance.now() - headReadAt > maxAgeMs) return null;
      return { number: last.number, time: last.time };
    },
    epoch: () => resets,
    onParticipantEvent(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    poll,
    async start() {
      stopped = false;
      await poll().catch((err: unknown) => logger.warn({ err }, "first consent watcher poll failed"));
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await polling?.catch(() => undefined);
    },
  };
}
