/**
 * Loan applications: the use-cases behind /api/applications. One direction of data flow: requests
 * and indexed chain events come in, the application record and its timeline go out (stored, then
 * pushed to listeners). Chain steps advance only from the indexed state (reconcile), never from a
 * client's say-so, and reconcile is idempotent, so a restart simply re-runs it.
 */
import { EventEmitter } from "node:events";
import { createHash, randomUUID, randomBytes } from "node:crypto";
import path from "node:path";
import { encodeFunctionData, hashTypedData, keccak256, toHex, type Hex, type PublicClient } from "viem";
import type { Logger } from "pino";
import { compareIds, type Address, type ConsentEntity, type IndexState, type ReceivableEntity } from "../domain/entities";
import type { Deployment } from "../chain/contracts";
import { abiOf } from "../chain/contracts";
import { retryWithBackoff, TxFailedError, type TxSender } from "../chain/sender";
import { loanTermsFromJson, loanTermsTypedData, type LoanTerms, ROLE, SCOPE } from "../chain/eip712";
import { ConflictError, ForbiddenError, NotFoundError, TooManyRequestsError, ValidationError } from "../domain/errors";
import { CURRENCY, moneyWithRaw, formatMoney } from "../domain/money";
import type { Session } from "../domain/session";
import { toJsonSafe } from "../domain/json";
import { JournalStore, type RecordStore } from "./journal-store";
import type { Database } from "../store/postgres/db";
import { PostgresRecordStore, type InsertGuard } from "../store/postgres/record-store";
import { KeyedQueue } from "../store/keyed-queue";
import {
  AGREEMENT_DOCUMENT_VERSION,
  agreementDocumentSha256,
  renderAgreementDocument,
  type AgreementDocumentInput,
} from "./agreement-document";
import {
  ENDED_STATUSES,
  FORM_RECEIVABLES,
  MAX_COLLATERAL,
  type ApplicationRecord,
  type DecisionReads,
  type Offer,
  type Review,
  type TimelineEntry,
} from "./types";
import { debtorsOf, inMemoryApplicationIndex, type ApplicationIndex, type WithApplicationIndex } from "../underwriting/application-index";
import { asOfDayEnd } from "../metrics/records";
import { DAY } from "../domain/time";
import {
  collateralLines,
  decide,
  decisionFromJson,
  decisionHash,
  decisionInputToJson,
  decisionToJson,
  type Decision,
  type DecisionInput,
  type MetricValues,
} from "../underwriting/decide";
import { collateralItem, collectDecisionInput, pledgeableByIds, pledgeableReceivables, type ApplicationTerms } from "../underwriting/input";
import { screenBorrower } from "../risk/screen";
import { policyByVersion, type Policy } from "../underwriting/policy";
import { explainDecision } from "../underwriting/explain";
import { totalDueOf } from "../loans/view";

/** Scopes an application must grant: what the scorecard reads. */
export const REQUIRED_SCOPES = SCOPE.orderHistory | SCOPE.receivables | SCOPE.paymentHistory | SCOPE.metrics | SCOPE.riskFlags;
/** EvidenceNotary kind for an underwriting decision. */
export const KIND_DECISION = 5;
/** Decision anchors per transaction at most (about 50,000 gas each). */
const MAX_ANCHORS_PER_TX = 50;

const anchorLabel = (ids: string[]) =>
  ids.length === 1 ? `anchoring the decision of application ${ids[0]}` : `anchoring the decisions of applications ${ids.join(", ")}`;
const OFFER_VALIDITY = 7 * DAY;
/** Statuses that end an application: its collateral is free again. */
const ENDED = ENDED_STATUSES;
/** The fields of a borrower's applications the rules of a new one read (the creation guard fetches only these). */
const CREATION_READS = ["id", "status", "receivableIds", "createdAt", "idempotencyKey", "lender", "amount", "termDays", "scopes"] as const;
type CreationView = Pick<ApplicationRecord, (typeof CREATION_READS)[number]>;
/** What a borrower's request for an application is, to tell a retry (same Idempotency-Key) from another request. */
type ApplicationRequest = Pick<ApplicationRecord, "lender" | "termDays" | "scopes"> & { amount: string; receivableIds?: readonly string[] };

/** The same request: same lender, amount, term and scopes, and the same receivables when the retry names them. */
function sameRequest(earlier: CreationView, retry: ApplicationRequest): boolean {
  return (
    earlier.lender === retry.lender &&
    earlier.amount === retry.amount &&
    earlier.termDays === retry.termDays &&
    earlier.scopes === retry.scopes &&
    (!retry.receivableIds?.length || [...retry.receivableIds].sort().join() === [...earlier.receivableIds].sort().join())
  );
}

const keyReused = (key: string, earlier: CreationView) =>
  new ConflictError(`Idempotency-Key ${key} was used for application ${earlier.id} with a different request`, "Idempotency-Key", {
    textCode: "idempotency_key_reused",
    params: { applicationId: earlier.id },
  });

const receivableTaken = (receivableId: string, applicationId: string) =>
  new ConflictError(`receivable ${receivableId} is already the collateral of live application ${applicationId}`, "receivableIds", {
    textCode: "receivable_taken",
    params: { receivableId, applicationId },
  });

/** Receivable id -> the live (not ended) application among `apps` that pledges it. */
function liveCollateralOf(apps: readonly CreationView[]): Map<string, string> {
  const taken = new Map<string, string>();
  for (const a of apps) if (!ENDED.has(a.status)) for (const id of a.receivableIds) taken.set(id, a.id);
  return taken;
}

/** The parties' registered names, where verified, as an offer's agreement document carries them. */
type PartyNames = { borrower: string | undefined; lender: string | undefined };

/** A submitted application's decision, collected under its borrower's consent in force. */
interface UnderConsent {
  consent: ConsentEntity;
  input: DecisionInput;
  names: PartyNames;
}

/** The creation guard found the request's Idempotency-Key on an application another process made. */
class AlreadyCreated extends Error {
  constructor(readonly id: string) {
    super(`application ${id} was created for this Idempotency-Key`);
  }
}

/** The lender must disburse within this long after the signing deadline (signed as `disburseBy`). */
const DISBURSEMENT_WINDOW = 7 * DAY;
/** Statuses nothing on chain can change any more. */
const FINAL = new Set(["closed", "declined", "withdrawn", "defaulted", "expired", "in_review"]);

/** What an application pledges when it names no receivables: the first MAX_COLLATERAL by id that no live application holds. */
function preselection(available: readonly ReceivableEntity[], taken: ReadonlyMap<string, string>): ReceivableEntity[] {
  return available.filter((r) => !taken.has(r.id)).slice(0, MAX_COLLATERAL);
}

/** The refusal of a named receivable the borrower may not pledge (not held, not confirmed, paid, matured or pledged). */
function unavailable(id: string): never {
  throw new ValidationError(`receivable ${id} is not a confirmed, unpledged receivable you hold`, "receivableIds", {
    textCode: "receivable_unavailable",
    params: { receivableId: id },
  });
}

/** A selection names each receivable once (a receivable counted twice would double its advance). */
function refuseListedTwice(ids: readonly string[]): void {
  if (new Set(ids).size !== ids.length)
    throw new ValidationError("a receivable is listed twice", "receivableIds", { textCode: "receivable_listed_twice", params: {} });
}

export interface ApplicationsDeps {
  dataDir: string;
  /** PostgreSQL (DATABASE_URL) instead of the journal under dataDir. */
  db?: Database;
  deployment: Deployment;
  publicClient: PublicClient;
  /** The service's transaction sender (its own account): anchors decisions and submits countersigned agreements. */
  sender?: TxSender;
  logger?: Pick<Logger, "warn" | "error">;
  /** First wait before a failed decision anchor is retried (doubling up to 60 s); default 1 s. */
  anchorRetryMs?: number;
  state: () => IndexState;
  /**
   * What an application reads of the index before it is stored and when it is decided (the prefill, a
   * quote, a creation, a decision under consent, a reviewer's offer), when the process does not hold
   * the index (a reader: underwriting/application-index.ts committedApplicationIndex); default the
   * whole index, `state()`. The chain steps after a decision (reconcile) read `state()`: they run
   * where the index is held.
   */
  applicationIndex?: WithApplicationIndex;
  /**
   * The borrower's consent to the lender in force now as the API's per-block consent state holds it
   * (auth/consent-watch.ts: the index plus the blocks above its tip), or null while that state is not
   * current. A decision under consent is then made only if it still grants the application's scopes:
   * a revocation in a block the index has not applied yet stops the collection, as it stops a read.
   */
  consentNow?: (borrower: Address, lender: Address) => { scopes: number } | null;
  /**
   * A participant's registered name, only when verified against the registry's commitment in `index`
   * (participants/directory.ts).
   */
  partyName?: (address: Address, index: Pick<IndexState, "participants">) => string | undefined;
  policy: Policy;
  /** Seconds; the chain's latest block time is used for chain-relative checks. */
  now?: () => number;
  /**
   * The chain's latest block time (seconds) as the service already follows it (the head watcher's last
   * poll, at most two poll intervals old, and the index's tip), or undefined when that is not current:
   * the clock is then read from the node. Saves one RPC per decision.
   */
  followedChainTime?: () => number | undefined;
  /** Whether the index has reached the chain's head (steps are rolled back only then); default yes. */
  indexSynced?: () => boolean;
  /** Told when the applications journal had a torn tail or damaged records at open. */
  warn?: (message: string, details: Record<string, unknown>) => void;
  /**
   * Records a read of an enterprise's data made on a reader's behalf (the access log): the borrower's
   * data read for its lender under the application's consent, and each debtor's tier (basis "policy").
   * Resolves once durable. An entry whose `entryId` the log already holds is not written again.
   */
  recordAccess?: (entry: AccessRead) => Promise<void>;
  /**
   * Whether the access log holds the entry with this id (the file log; absent on PostgreSQL). With it, a
   * decision's reads are stored in the application's record, in the same journal write as the decision
   * (one fsync before the answer instead of two in a row), and copied to the access log right after; at
   * start, entries the log lacks (a crash between the two writes) are appended before anything is served.
   * Without it, the reads are written to the access log first and the record after, as two writes.
   */
  accessRecorded?: (entryId: string) => boolean;
  /** Bounds per borrower: open applications at once, and applications a day (each may cost an on-chain anchor). */
  limits?: { openPerBorrower?: number; perBorrowerPerDay?: number };
  /**
   * Several processes on one database: whether this process runs the background jobs now (it holds
   * the index writer's lock, store/postgres/leader.ts). Only then does it anchor decisions: a decision
   * made here while another process leads is anchored by the leader's next reconcile. Unset: one process, always.
   */
  runsJobs?: () => boolean;
}

/** A read on a reader's behalf, as the access log records it. */
export interface AccessRead {
  /** The entry's id: derived from the application, the decision's instant and the read's place, so a rewrite is recognised. */
  entryId: string;
  /** ISO 8601 wall-clock time of the read. */
  recordedAt: string;
  reader: Address;
  enterprise: Address;
  basis: "consent" | "policy";
  scopes: number;
  resource: string;
  applicationId: string;
  /** The decision's instant (block seconds): when the consent was checked. */
  at: number;
  consent?: { scopes: number; grantedAt: number; expiresAt: number };
}

/** The access-log entries of one decision's reads: the borrower's data for its lender, each debtor's tier for lender and borrower. */
export function readEntries(app: Pick<ApplicationRecord, "id" | "borrower" | "lender">, r: DecisionReads): AccessRead[] {
  const reads: Omit<AccessRead, "entryId">[] = [
    {
      recordedAt: r.at,
      reader: app.lender,
      enterprise: app.borrower,
      basis: "consent",
      scopes: r.scopes,
      resource: "underwriting of the application (metrics, risk flags, receivables)",
      applicationId: app.id,
      at: r.asOf,
      consent: r.consent,
    },
  ];
  // Each debtor's data reaches the lender (and the borrower) only as its tier and advance rate.
  for (const debtor of r.debtors) {
    for (const reader of [app.lender, app.borrower]) {
      if (reader === debtor) continue;
      reads.push({
        recordedAt: r.at,
        reader,
        enterprise: debtor,
        basis: "policy",
        scopes: 0,
        resource: `underwriting of the application: the debtor's tier and advance rate under policy ${r.policyVersion}`,
        applicationId: app.id,
        at: r.asOf,
      });
    }
  }
  return reads.map((read, i) => {
    const h = createHash("sha256").update(`access read:${app.id}:${r.asOf}:${i}`).digest("hex");
    return { entryId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`, ...read };
  });
}

export const DEFAULT_OPEN_APPLICATIONS_PER_BORROWER = 5;
export const DEFAULT_APPLICATIONS_PER_BORROWER_PER_DAY = 20;
/** Statuses in which an application still counts against its borrower's open bound. */
const CLOSED = new Set(["closed", "declined", "withdrawn", "defaulted", "expired"]);

/**
 * A borrower's bounds: open applications at once, applications in 24 hours. `count` counts the
 * borrower's applications that match (in place, or over a list); `now` in seconds.
 */
function checkBorrowerBounds(
  count: (match: (a: Readonly<CreationView>) => boolean) => number,
  limits: ApplicationsDeps["limits"],
  now: number,
): void {
  const open = limits?.openPerBorrower ?? DEFAULT_OPEN_APPLICATIONS_PER_BORROWER;
  const perDay = limits?.perBorrowerPerDay ?? DEFAULT_APPLICATIONS_PER_BORROWER_PER_DAY;
  if (count((a) => !CLOSED.has(a.status)) >= open) {
    throw new TooManyRequestsError(`you have ${open} open applications, the most allowed: withdraw one or wait for a decision`, {
      textCode: "too_many_open",
      params: { max: String(open) },
    });
  }
  if (count((a) => a.createdAt > now - DAY) >= perDay) {
    throw new TooManyRequestsError(`you made ${perDay} applications in the last 24 hours, the most allowed: try again later`, {
      textCode: "too_many_today",
      params: { max: String(perDay) },
    });
  }
}

/**
 * On PostgreSQL, checked when a new application is inserted, under a lock on its borrower, against the
 * borrower's committed applications (those another process created a moment ago included): a retry
 * of a request is its first application, a receivable stays in one live application, and the
 * borrower's bounds hold.
 */
export function creationGuard(limits: ApplicationsDeps["limits"]): InsertGuard<ApplicationRecord, (typeof CREATION_READS)[number]> {
  return {
    field: "borrower",
    reads: CREATION_READS,
    check(app, committed) {
      if (app.idempotencyKey !== undefined) {
        const earlier = committed.find((a) => a.idempotencyKey === app.idempotencyKey);
        // The request as the borrower made it: the receivables it named, not those this process preselected.
        const request = { ...app, receivableIds: app.requested?.receivableIds };
        if (earlier) throw sameRequest(earlier, request) ? new AlreadyCreated(earlier.id) : keyReused(app.idempotencyKey, earlier);
      }
      const taken = liveCollateralOf(committed);
      for (const id of app.receivableIds) {
        const other = taken.get(id);
        if (other) throw receivableTaken(id, other);
      }
      checkBorrowerBounds((match) => committed.filter(match).length, limits, app.createdAt);
    },
  };
}

export interface ReviewInput {
  outcome: "approve" | "decline" | "change_terms";
  reason: string;
  amount?: bigint;
  rateBps?: number;
  termDays?: number;
  /** Required to approve above the decision's limit: the reviewer's reason for going past it. */
  overrideLimit?: { reason: string };
}

export interface CreateApplicationInput {
  amount: bigint;
  termDays: number;
  lender: Address;
  receivableIds?: string[];
  scopes: number;
}

export interface QuoteInput {
  /** Default: the limit of the chosen receivables. */
  amount?: bigint;
  termDays: number;
  receivableIds: string[];
  lender?: Address;
}

export class ApplicationService extends EventEmitter {
  /** Per-application queue: a request and the indexer's reconcile never advance the same record at once. */
  private readonly locks = new KeyedQueue();
  /** Decision anchors not yet recorded, awaited by close() so none is cut off mid-write. */
  private readonly anchoring = new Map<string, Promise<void>>();
  /** Decisions waiting for the next anchor transaction (one transaction carries all of them). */
  private readonly anchorQueue = new Map<string, { app: ApplicationRecord; decision: Decision; done: () => void }>();
  /** The loop sending the queued anchors, while there are any. */
  private anchorPump: Promise<void> | null = null;
  /** Decisions whose anchor is missing are re-anchored once per start (the first reconcile). */
  private anchorsRetried = false;
  /** Stops the anchors' retries on close (what is left is retried by the next start's first reconcile). */
  private readonly closing = new AbortController();
  /** Decisions' reads being copied from their records to the access log, awaited by close(). */
  private readonly copying = new Set<Promise<void>>();
  /** Reads whose copy to the access log failed (durable in their records): tried again at each reconcile and at start. */
  private uncopied: AccessRead[] = [];

  /** The index of one moment: in memory on an indexing process, one snapshot of the committed index on a reader. */
  readonly withIndex: WithApplicationIndex;

  private constructor(
    private readonly deps: ApplicationsDeps,
    private readonly store: RecordStore<ApplicationRecord>,
  ) {
    super();
    this.withIndex = deps.applicationIndex ?? inMemoryApplicationIndex(() => deps.state(), deps.policy);
  }

  static async open(deps: ApplicationsDeps): Promise<ApplicationService> {
    const store = deps.db
      ? await PostgresRecordStore.open<ApplicationRecord>(deps.db, "applications", creationGuard(deps.limits))
      : await JournalStore.open<ApplicationRecord>(path.join(deps.dataDir, "applications"), "applications", {
          warn: (message, details) => deps.warn?.(message, details),
        });
    const service = new ApplicationService(deps, store);
    await service.completeAccessLog();
    return service;
  }

  /**
   * The access log gets every read stored with a decision that it does not hold yet (the process stopped
   * between the decision's write and the copy): before the service answers anything.
   */
  private async completeAccessLog(): Promise<void> {
    const { accessRecorded, recordAccess } = this.deps;
    if (!accessRecorded || !recordAccess) return;
    const missing = this.store
      .where((a) => !!a.decisionReads)
      .flatMap((a) => a.decisionReads!.flatMap((r) => readEntries(a, r)))
      .filter((e) => !accessRecorded(e.entryId));
    if (missing.length === 0) return;
    try {
      await Promise.all(missing.map((e) => recordAccess(e)));
    } catch (err) {
      await this.store.close();
      throw err;
    }
    this.deps.warn?.(`access log: ${missing.length} entries of decisions stored before a stop were missing from it and are now written`, {
      entries: missing.length,
      applicationIds: [...new Set(missing.map((e) => e.applicationId))],
    });
  }

  /** Copies a stored decision's reads to the access log; a failure is logged and tried again at the next reconcile. */
  private copyReads(reads: AccessRead[]): void {
    const copy = Promise.all(reads.map((r) => this.deps.recordAccess!(r))).then(
      () => undefined,
      (err: unknown) => {
        this.uncopied.push(...reads);
        this.deps.logger?.error(
          { err, applicationIds: [...new Set(reads.map((r) => r.applicationId))] },
          "access-log entries of a decision not copied yet (they are durable in the application's record): tried again at the next reconcile",
        );
      },
    );
    this.copying.add(copy);
    void copy.finally(() => this.copying.delete(copy));
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Math.floor(Date.now() / 1000);
  }

  /** Runs `fn` after every earlier task on the same application has finished. */
  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(id, fn);
  }

  /** What the application form shows before the borrower types anything. */
  async prefill(borrower: Address) {
    const asOf = await this.chainNow();
    const taken = this.liveCollateral(borrower);
    return this.withIndex(async (index) => {
      const pledgeable = await this.pledgeableIn(index, borrower, asOf);
      const participants = await index.participants();
      // The form offers the first page, and the preselection (beyond it only when most of the page is in
      // live applications): the limit is the sum of the selected ones' advances.
      const preselected = preselection(pledgeable, taken);
      const preselectedIds = new Set(preselected.map((r) => r.id));
      const page = await this.formPage(index, pledgeable, 0, taken, asOf, preselected);
      return {
        borrower,
        participant: participants[borrower],
        ...page,
        /** What an application pledges when it names none (the service's preselection), and at most. */
        preselected: [...preselectedIds],
        maxReceivables: MAX_COLLATERAL,
        /** What an application naming no receivables may ask: the preselection's advances (the form's first maximum). */
        maxAmount: page.receivables.filter((r) => preselectedIds.has(r.id)).reduce((s, r) => s + r.advance, 0n),
        maxTermDays: this.deps.policy.maxTermDays,
        minAmount: this.deps.policy.minAmount,
        requiredScopes: REQUIRED_SCOPES,
        /** By address, as the directory lists them. */
        lenders: Object.values(participants)
          .filter((p) => (p.roles & ROLE.LENDER) !== 0 && !p.suspended)
          .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
      };
    });
  }

  /** A later page of the form's receivables: the next FORM_RECEIVABLES pledgeable ones by id after `after`. */
  async formReceivables(borrower: Address, after: string) {
    const asOf = await this.chainNow();
    const taken = this.liveCollateral(borrower);
    return this.withIndex(async (index) => {
      const pledgeable = await this.pledgeableIn(index, borrower, asOf);
      const offset = pledgeable.findIndex((r) => compareIds(r.id, after) > 0);
      return this.formPage(index, pledgeable, offset < 0 ? pledgeable.length : offset, taken, asOf);
    });
  }

  /** The borrower's pledgeable receivables by id; its slice, which a reader keeps after a read of its metrics, first. */
  private async pledgeableIn(index: ApplicationIndex, borrower: Address, asOf: number): Promise<ReceivableEntity[]> {
    await index.prefetchSlice(borrower);
    return index.run((state) => pledgeableReceivables(state, borrower, asOf));
  }

  /**
   * The form's page of `pledgeable` from `offset` (and `also`, in id order), each receivable as the form
   * shows it: what it adds to the maximum (its advance, priced for the page alone) and the live
   * application that already pledges it, if any (not selectable).
   */
  private async formPage(
    index: ApplicationIndex,
    pledgeable: readonly ReceivableEntity[],
    offset: number,
    taken: ReadonlyMap<string, string>,
    asOf: number,
    also: readonly ReceivableEntity[] = [],
  ) {
    const offered = new Set([...pledgeable.slice(offset, offset + FORM_RECEIVABLES), ...also]);
    const shown = pledgeable.filter((r) => offered.has(r));
    const advances = this.advancesOf(shown, asOf, await index.tierMetrics(debtorsOf(shown), asOfDayEnd(asOf)));
    return {
      receivables: shown.map((r) => ({
        id: r.id,
        orderId: r.orderId,
        debtor: r.debtor,
        faceValue: r.faceValue,
        paid: r.paid,
        issuedAt: r.issuedAt,
        maturity: r.maturity,
        advance: advances.get(r.id) ?? 0n,
        ...(taken.has(r.id) ? { inApplication: taken.get(r.id) } : {}),
      })),
      /** Every pledgeable receivable the borrower holds, on any page. */
      receivableCount: pledgeable.length,
      offset,
      /** The `after` of the next page (`GET /api/applications/receivables`); none on the last. */
      next: offset + FORM_RECEIVABLES < pledgeable.length ? pledgeable[offset + FORM_RECEIVABLES - 1].id : undefined,
    };
  }

  /**
   * The price before applying: what the policy would decide for these terms now (the same collect and
   * decide as a real application, nothing stored, nothing logged as a lender's read), with the total due
   * at maturity by the contract's own formula. An empty selection is refused, and the limit follows the
   * selection.
   */
  async quote(session: Session, input: QuoteInput) {
    const borrower = session.address;
    if ((session.roles & ROLE.SUPPLIER) === 0)
      throw new ForbiddenError("only a registered, active supplier can ask for a quote", { textCode: "supplier_only", params: {} });
    if (input.receivableIds.length === 0)
      throw new ValidationError("choose at least one receivable to pledge", "receivableIds", {
        textCode: "no_receivable_chosen",
        params: {},
      });
    refuseListedTwice(input.receivableIds);
    const asOf = await this.chainNow();
    const { limit, amount, decision } = await this.withIndex(async (index) => {
      await index.prefetchSlice(borrower);
      const named = await index.run((state) => pledgeableByIds(state, borrower, input.receivableIds, asOf));
      const chosen = named.map((r, i) => r ?? unavailable(input.receivableIds[i]));
      // The limit as the form shows it (the debtors' tiers at the end of the day), the decision at its instant.
      const [atDayEnd, atNow] = await Promise.all([
        index.tierMetrics(debtorsOf(chosen), asOfDayEnd(asOf)),
        index.tierMetrics(debtorsOf(chosen), asOf),
      ]);
      const limit = this.limitOf(chosen, asOf, atDayEnd);
      const amount = input.amount ?? limit;
      const terms = {
        borrower,
        lender: input.lender ?? borrower,
        amount,
        termDays: input.termDays,
        receivableIds: chosen.map((r) => r.id),
      };
      const decisionInput = await this.collectOn(index, terms, asOf, atNow);
      return { limit, amount, decision: decide(decisionInput, this.deps.policy, { hashInput: false }) };
    });
    const maturity = asOf + input.termDays * DAY;
    const totalDue = totalDueOf(amount, decision.rateBps, asOf, maturity);
    return {
      policyVersion: decision.policyVersion,
      asOf,
      outcome: decision.outcome,
      score: decision.score,
      reasons: decision.reasons.filter((r) => r.effect !== undefined),
      limit,
      minAmount: BigInt(this.deps.policy.minAmount),
      amount,
      termDays: input.termDays,
      rateBps: decision.rateBps,
      /** The policy charges no fees: the total due is principal plus simple interest. */
      fees: 0n,
      interest: totalDue - amount,
      totalDue,
      maturity,
    };
  }

  /** What each receivable allows under the policy, with its debtor's tier: the decision's own collateral lines. */
  private advancesOf(receivables: ReceivableEntity[], asOf: number, debtors: Record<Address, MetricValues>): Map<string, bigint> {
    return new Map(collateralLines(receivables.map(collateralItem), this.deps.policy, { asOf, debtors }).map((l) => [l.id, l.advance]));
  }

  /** The most these receivables allow together under the policy: the decision's own limit. */
  private limitOf(receivables: ReceivableEntity[], asOf: number, debtors: Record<Address, MetricValues>): bigint {
    return [...this.advancesOf(receivables, asOf, debtors).values()].reduce((s, a) => s + a, 0n);
  }

  /**
   * A decision's input for `terms` at `asOf`, read through `index`: the debtors' tiers as `index` counts
   * them (`debtorMetrics` when the caller has read them already), the rest by collectDecisionInput.
   */
  private async collectOn(
    index: ApplicationIndex,
    terms: ApplicationTerms,
    asOf: number,
    debtorMetrics?: Record<Address, MetricValues>,
  ): Promise<DecisionInput> {
    // The borrower's metrics read its whole slice: on a reader it is taken from what the reader keeps
    // (or read at once), not found one level of its split trees per run of the whole input.
    await index.prefetchSlice(terms.borrower);
    const tiers =
      debtorMetrics ??
      (await index.tierMetrics(
        await index.run((state) => debtorsOf(terms.receivableIds.flatMap((id) => state.receivables[id] ?? []))),
        asOf,
      ));
    // The screen walks beyond the slice (the trade graph, related parties, transfers): on a reader its keys
    // are found run by run, so it runs alone, not with the borrower's metrics computed again in each run.
    const flags = await index.run((state) => screenBorrower(state, terms.borrower, { asOf }));
    const metrics = await index.metricsAt(terms.borrower, asOf);
    return index.run((state) =>
      collectDecisionInput(state, terms, { asOf, policy: this.deps.policy, debtorMetrics: tiers, flags, metrics }),
    );
  }

  /** The parties' names as the agreement document carries them: verified against the registry in `index`. */
  private partyNames(app: ApplicationRecord, index: Pick<IndexState, "participants">): PartyNames {
    return { borrower: this.deps.partyName?.(app.borrower, index), lender: this.deps.partyName?.(app.lender, index) };
  }

  /**
   * Latest block time: decisions and offers are dated on the chain's clock, which the contracts check.
   * The head the service follows when it is current (no chain read), else the node's latest block; never
   * before the wall clock, and never before the index's tip (every indexed event is known at that time).
   */
  private async chainNow(): Promise<number> {
    const followed = this.deps.followedChainTime?.();
    if (followed !== undefined) return Math.max(followed, this.now());
    const block = await this.deps.publicClient.getBlock({ blockTag: "latest" });
    return Math.max(Number(block.timestamp), this.now());
  }

  list(session: Session, filter: { status?: string } = {}): ApplicationRecord[] {
    return this.store
      .where(
        (a) =>
          (session.operator || a.borrower === session.address || a.lender === session.address) &&
          (!filter.status || a.status === filter.status),
      )
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /** The records `party` borrows or lends in, whoever asks (no access decision): for its notifications. */
  involving(party: Address): ApplicationRecord[] {
    return this.store.where((a) => a.borrower === party || a.lender === party);
  }

  /** The stored record, whoever asks: for checking an application id a read cites (no access decision). */
  find(id: string): ApplicationRecord | undefined {
    return this.store.get(id);
  }

  /** The application, to its borrower, its lender or the operator; to anyone else it does not exist. */
  get(session: Session, id: string): ApplicationRecord {
    const app = this.store.get(id);
    if (!app || !(session.operator || app.borrower === session.address || app.lender === session.address)) {
      throw new NotFoundError(`no application ${id}`, { textCode: "application_not_found", params: { applicationId: id } });
    }
    return app;
  }

  /**
   * Creates an application. One borrower's creations run one at a time, so a retried request with the
   * same `idempotencyKey` returns the first one's record (`replayed`), and two applications never
   * pledge the same receivable while both are live.
   */
  async create(
    session: Session,
    input: CreateApplicationInput,
    idempotencyKey?: string,
  ): Promise<{ app: ApplicationRecord; replayed: boolean }> {
    return this.withLock(`create:${session.address}`, async () => {
      if (idempotencyKey !== undefined) {
        const [earlier] = this.store.where((a) => a.borrower === session.address && a.idempotencyKey === idempotencyKey);
        if (earlier) {
          if (!sameRequest(earlier, { ...input, amount: input.amount.toString() })) throw keyReused(idempotencyKey, earlier);
          return { app: earlier, replayed: true };
        }
      }
      try {
        return { app: await this.createLocked(session, input, idempotencyKey), replayed: false };
      } catch (err) {
        // Another process made this request's application a moment ago (PostgreSQL's creation guard).
        if (!(err instanceof AlreadyCreated) || !(this.store instanceof PostgresRecordStore)) throw err;
        await this.store.refresh(err.id);
        const earlier = this.store.get(err.id);
        if (!earlier) throw err;
        return { app: earlier, replayed: true };
      }
    });
  }

  /** Receivable id -> the live (not ended) application of this borrower that pledges it. */
  private liveCollateral(borrower: Address): Map<string, string> {
    return liveCollateralOf(this.store.where((x) => x.borrower === borrower && !ENDED.has(x.status)));
  }

  private async createLocked(session: Session, input: CreateApplicationInput, idempotencyKey?: string): Promise<ApplicationRecord> {
    const borrower = session.address;
    if ((session.roles & ROLE.SUPPLIER) === 0)
      throw new ForbiddenError("only a registered, active supplier can apply", { textCode: "supplier_only", params: {} });
    // Counted in place: a borrower's past applications are never copied for it.
    checkBorrowerBounds((match) => this.store.count((a) => a.borrower === borrower && match(a)), this.deps.limits, this.now());
    const asOf = await this.chainNow();
    // The checks read one moment of the index; the record is stored after it (on a reader, the
    // snapshot's connection is not held while the application's write waits for another).
    const chosen = await this.withIndex((index) => this.checkCreation(index, borrower, input, asOf));
    const at = this.now();
    const id = randomUUID();
    const app: ApplicationRecord = {
      id,
      borrower,
      lender: input.lender,
      amount: input.amount.toString(),
      termDays: input.termDays,
      requested: {
        amount: input.amount.toString(),
        termDays: input.termDays,
        ...(input.receivableIds ? { receivableIds: [...input.receivableIds] } : {}),
      },
      receivableIds: chosen.map((r) => r.id).sort(compareIds),
      scopes: input.scopes,
      purpose: keccak256(toHex(id)),
      status: "submitted",
      createdAt: at,
      createdAtBlockTime: asOf,
      updatedAt: at,
      timeline: [
        { step: "draft", at, actor: borrower, detail: "prefilled from the chain" },
        { step: "submitted", at, actor: borrower },
      ],
      signatures: {},
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    };
    // One durable write: submitted, or already decided when a consent is in force.
    await this.withLock(id, () => this.reconcileOne(app, { chainTime: asOf, isNew: true }));
    return this.store.get(id)!;
  }

  /**
   * A new application's checks against one moment of the index: its lender is an active lender, its
   * receivables (chosen, or preselected) are pledgeable and in no live application, and the amount is
   * within what their debtors' tiers allow. The receivables to pledge, or a 4xx naming the field.
   */
  private async checkCreation(
    index: ApplicationIndex,
    borrower: Address,
    input: CreateApplicationInput,
    asOf: number,
  ): Promise<ReceivableEntity[]> {
    await index.prefetchSlice(borrower);
    const { lender, named, available } = await index.run((state) => ({
      lender: state.participants[input.lender],
      // Only the preselection needs the borrower's whole list; a selection is checked by id.
      named: input.receivableIds && pledgeableByIds(state, borrower, input.receivableIds, asOf),
      available: input.receivableIds ? [] : pledgeableReceivables(state, borrower, asOf),
    }));
    if (!lender || (lender.roles & ROLE.LENDER) === 0 || lender.suspended)
      throw new ValidationError("not an active lender", "lender", { textCode: "lender_not_active", params: {} });
    if ((input.scopes & REQUIRED_SCOPES) !== REQUIRED_SCOPES) {
      throw new ValidationError(
        `consent must include order history, receivables, payment history, metrics and risk flags (scope bits ${REQUIRED_SCOPES})`,
        "scopes",
        { textCode: "consent_scopes_required", params: {} },
      );
    }
    if (input.termDays < 1 || input.termDays > this.deps.policy.maxTermDays) {
      throw new ValidationError(`term must be between 1 and ${this.deps.policy.maxTermDays} days`, "termDays", {
        textCode: "term_outside",
        params: { maxTermDays: String(this.deps.policy.maxTermDays) },
      });
    }
    // A receivable is pledged once: refused up front while another live application holds it.
    const taken = this.liveCollateral(borrower);
    // An explicit selection is honoured as it is: an empty one is refused, never replaced by the preselection.
    if (input.receivableIds !== undefined && input.receivableIds.length === 0) {
      throw new ValidationError("choose at least one receivable to pledge", "receivableIds", {
        textCode: "no_receivable_chosen",
        params: {},
      });
    }
    if (input.receivableIds !== undefined) refuseListedTwice(input.receivableIds);
    const chosen = input.receivableIds
      ? input.receivableIds.map((id, i) => {
          const r = named?.[i] ?? unavailable(id);
          const other = taken.get(id);
          if (other) throw receivableTaken(id, other);
          return r;
        })
      : preselection(available, taken);
    if (chosen.length === 0) {
      const held = available.find((r) => taken.has(r.id));
      if (held)
        throw new ConflictError(
          `receivable ${held.id} is already the collateral of live application ${taken.get(held.id)}; every receivable you hold is in a live application`,
          "receivableIds",
          { textCode: "receivable_taken", params: { receivableId: held.id, applicationId: taken.get(held.id)! } },
        );
      throw new ValidationError("you hold no confirmed, unpledged receivable to pledge", "receivableIds", {
        textCode: "no_receivable_to_pledge",
        params: {},
      });
    }
    if (chosen.length > MAX_COLLATERAL)
      throw new ValidationError(`at most ${MAX_COLLATERAL} receivables per loan`, "receivableIds", {
        textCode: "too_many_receivables",
        params: { max: String(MAX_COLLATERAL) },
      });
    const max = this.limitOf(chosen, asOf, await index.tierMetrics(debtorsOf(chosen), asOfDayEnd(asOf)));
    const minAmount = BigInt(this.deps.policy.minAmount);
    if (input.amount < minAmount) {
      throw new ValidationError(`amount ${moneyWithRaw(input.amount)} is below the smallest loan, ${moneyWithRaw(minAmount)}`, "amount", {
        textCode: "amount_below_minimum",
        params: { amountAmount: input.amount.toString(), minAmount: minAmount.toString(), currency: CURRENCY.code },
      });
    }
    if (input.amount > max) {
      throw new ValidationError(
        `amount ${moneyWithRaw(input.amount)} is above what the selected receivables allow: the maximum is ${moneyWithRaw(max)}`,
        "amount",
        {
          textCode: "amount_above_maximum",
          params: { amountAmount: input.amount.toString(), maxAmount: max.toString(), currency: CURRENCY.code },
        },
      );
    }
    return chosen;
  }

  /**
   * The bounds of a reviewer's approval: never more than the borrower asked, at least the smallest
   * loan, a term within the policy's, a rate within the policy's pricing range; above the decision's
   * limit only with an explicit override and its reason (returned, to be recorded). 400 names the field.
   */
  private checkReviewedTerms(app: ApplicationRecord, decision: Decision, input: ReviewInput): Review["limitOverride"] {
    const policy = this.deps.policy.version === decision.policyVersion ? this.deps.policy : policyByVersion(decision.policyVersion);
    const asked = BigInt(app.requested?.amount ?? app.amount);
    const amount = input.outcome === "change_terms" && input.amount !== undefined ? input.amount : BigInt(app.amount);
    if (amount > asked) {
      throw new ValidationError(`amount ${moneyWithRaw(amount)} is more than the borrower asked for, ${moneyWithRaw(asked)}`, "amount", {
        textCode: "amount_above_asked",
        params: { amountAmount: amount.toString(), askedAmount: asked.toString(), currency: CURRENCY.code },
      });
    }
    const minAmount = BigInt(policy.minAmount);
    if (amount < minAmount) {
      throw new ValidationError(`amount ${moneyWithRaw(amount)} is below the smallest loan, ${moneyWithRaw(minAmount)}`, "amount", {
        textCode: "amount_below_minimum",
        params: { amountAmount: amount.toString(), minAmount: minAmount.toString(), currency: CURRENCY.code },
      });
    }
    if (input.termDays !== undefined && input.termDays > policy.maxTermDays) {
      throw new ValidationError(`term must be between 1 and ${policy.maxTermDays} days`, "termDays", {
        textCode: "term_outside",
        params: { maxTermDays: String(policy.maxTermDays) },
      });
    }
    if (input.rateBps !== undefined) {
      const rates = policy.pricing.bands.map((b) => b.rateBps);
      const [low, high] = [Math.min(...rates), Math.max(...rates)];
      if (input.rateBps < low || input.rateBps > high) {
        throw new ValidationError(`rate must be between ${low} and ${high} bps a year (the policy's pricing range)`, "rateBps", {
          textCode: "rate_outside",
          params: { lowBps: String(low), highBps: String(high) },
        });
      }
    }
    if (amount <= decision.limit) return undefined;
    if (!input.overrideLimit) {
      throw new ValidationError(
        `amount ${moneyWithRaw(amount)} is above the policy's limit of ${moneyWithRaw(decision.limit)}: lower it, or override the limit with a reason`,
        "amount",
        {
          textCode: "amount_above_limit",
          params: { amountAmount: amount.toString(), limitAmount: decision.limit.toString(), currency: CURRENCY.code },
        },
      );
    }
    return { limit: decision.limit.toString(), amount: amount.toString(), reason: input.overrideLimit.reason };
  }

  /** 429 when the borrower has too many applications open, or made too many in the last day. */
  async review(session: Session, id: string, input: ReviewInput): Promise<ApplicationRecord> {
    this.get(session, id);
    return this.withLock(id, () => this.reviewLocked(session, id, input));
  }

  private async reviewLocked(session: Session, id: string, input: ReviewInput): Promise<ApplicationRecord> {
    const app = this.get(session, id);
    if (app.lender !== session.address)
      throw new ForbiddenError("only the lender named in the application reviews it", { textCode: "review_not_lender", params: {} });
    if (app.status !== "in_review")
      throw new ConflictError(`application is ${app.status}, not waiting for review`, undefined, {
        textCode: "not_in_review",
        params: { status: app.status },
      });
    const decision = app.decision ? decisionFromJson(app.decision) : undefined;
    if (!decision) throw new ConflictError("no automatic decision to review", undefined, { textCode: "no_decision", params: {} });
    const limitOverride = input.outcome === "decline" ? undefined : this.checkReviewedTerms(app, decision, input);
    const at = this.now();
    app.review = {
      reviewer: session.address,
      at,
      outcome: input.outcome,
      reason: input.reason,
      overrides: decision.inputHash,
      ...(input.amount !== undefined ? { amount: input.amount.toString() } : {}),
      ...(input.rateBps !== undefined ? { rateBps: input.rateBps } : {}),
      ...(input.termDays !== undefined ? { termDays: input.termDays } : {}),
      ...(limitOverride ? { limitOverride } : {}),
    };
    this.push(app, {
      step: "overridden",
      at,
      actor: session.address,
      detail: limitOverride
        ? `${input.outcome}: ${input.reason}; above the policy's limit of ${formatMoney(limitOverride.limit)} by override: ${limitOverride.reason}`
        : `${input.outcome}: ${input.reason}`,
    });
    if (input.outcome === "decline") {
      app.status = "declined";
      this.push(app, { step: "declined", at, actor: session.address, detail: input.reason });
    } else {
      if (input.amount !== undefined) app.amount = input.amount.toString();
      if (input.termDays !== undefined) app.termDays = input.termDays;
      const names = await this.withIndex((index) => index.run((state) => this.partyNames(app, state)));
      this.issueOffer(app, input.rateBps ?? decision.rateBps, await this.chainNow(), names);
    }
    await this.save(app);
    return app;
  }

  async contest(session: Session, id: string, reason: string): Promise<ApplicationRecord> {
    this.get(session, id);
    return this.withLock(id, () => this.contestLocked(session, id, reason));
  }

  private async contestLocked(session: Session, id: string, reason: string): Promise<ApplicationRecord> {
    const app = this.get(session, id);
    if (app.borrower !== session.address)
      throw new ForbiddenError("only the borrower contests its application", { textCode: "contest_not_borrower", params: {} });
    if (app.status !== "declined" || app.review)
      throw new ConflictError("only an automatic decline can be contested", undefined, {
        textCode: "contest_not_automatic_decline",
        params: {},
      });
    const at = this.now();
    app.contest = { at, reason };
    this.push(app, { step: "contested", at, actor: session.address, detail: reason });
    app.status = "in_review";
    this.push(app, { step: "in_review", at, actor: "service", detail: "sent to the lender's reviewer" });
    await this.save(app);
    return app;
  }

  /** The borrower withdraws an application that has no agreement on chain yet (any state before that). */
  async withdraw(session: Session, id: string, reason?: string): Promise<ApplicationRecord> {
    this.get(session, id);
    return this.withLock(id, () => this.withdrawLocked(session, id, reason));
  }

  private async withdrawLocked(session: Session, id: string, reason?: string): Promise<ApplicationRecord> {
    const app = this.get(session, id);
    if (app.borrower !== session.address)
      throw new ForbiddenError("only the borrower withdraws its application", { textCode: "withdraw_not_borrower", params: {} });
    this.checkStillOpen(app, "withdrawn");
    const at = this.now();
    app.status = "withdrawn";
    app.withdrawal = { at, ...(reason ? { reason } : {}) };
    this.push(app, { step: "withdrawn", at, actor: session.address, ...(reason ? { detail: reason } : {}) });
    await this.save(app);
    return app;
  }

  /** The named lender declines, with a reason, an application that has no agreement on chain yet. */
  async decline(session: Session, id: string, reason: string): Promise<ApplicationRecord> {
    this.get(session, id);
    return this.withLock(id, () => this.declineLocked(session, id, reason));
  }

  private async declineLocked(session: Session, id: string, reason: string): Promise<ApplicationRecord> {
    const app = this.get(session, id);
    if (app.lender !== session.address)
      throw new ForbiddenError("only the lender named in the application declines it", { textCode: "decline_not_lender", params: {} });
    this.checkStillOpen(app, "declined");
    const at = this.now();
    app.status = "declined";
    app.lenderDecline = { at, reason };
    this.push(app, { step: "declined", at, actor: session.address, detail: reason });
    await this.save(app);
    return app;
  }

  /** 409 once the application ended or its agreement is recorded on chain (from then on the contract governs). */
  private checkStillOpen(app: ApplicationRecord, to: string): void {
    if (app.loanId) {
      throw new ConflictError(
        `application is ${app.status}: its agreement is recorded on chain as loan ${app.loanId}, so it can no longer be ${to} here`,
        undefined,
        {
          textCode: to === "withdrawn" ? "recorded_cannot_withdraw" : "recorded_cannot_decline",
          params: { status: app.status, loanId: String(app.loanId) },
        },
      );
    }
    if (ENDED.has(app.status))
      throw new ConflictError(`application is ${app.status}; it can no longer be ${to}`, undefined, {
        textCode: to === "withdrawn" ? "ended_cannot_withdraw" : "ended_cannot_decline",
        params: { status: app.status },
      });
  }

  /** The exact EIP-712 typed data both parties sign. */
  offerTypedData(app: ApplicationRecord) {
    if (!app.offer)
      throw new ConflictError(`application is ${app.status}: no offer yet`, undefined, {
        textCode: "no_offer_yet",
        params: { status: app.status },
      });
    return loanTermsTypedData(this.deps.deployment.chainId, this.deps.deployment.contracts.LoanAgreements, this.termsOf(app));
  }

  agreementDocument(app: ApplicationRecord): string {
    return renderAgreementDocument(this.agreementInput(app));
  }

  private agreementInput(app: ApplicationRecord): AgreementDocumentInput {
    if (!app.offer) throw new NotFoundError("no agreement document before an offer", { textCode: "no_agreement_document_yet", params: {} });
    const decision = app.decision as unknown as Decision;
    const t = this.termsOf(app);
    return {
      version: app.offer.documentVersion,
      borrowerName: app.offer.names?.borrower,
      lenderName: app.offer.names?.lender,
      applicationId: app.id,
      chainId: this.deps.deployment.chainId,
      loanAgreements: this.deps.deployment.contracts.LoanAgreements,
      borrower: t.borrower,
      lender: t.lender,
      currency: t.currency,
      principal: t.principal,
      rateBps: Number(t.rateBps),
      start: Number(t.start),
      disburseBy: Number(t.disburseBy),
      maturity: Number(t.maturity),
      collateral: t.collateral.map(String),
      decisionInputHash: decision.inputHash,
      policyVersion: decision.policyVersion,
    };
  }

  /** A party's signature over the offer; with both, the service submits the agreement on chain. */
  async submitSignature(session: Session, id: string, signature: Hex): Promise<ApplicationRecord> {
    this.get(session, id);
    return this.withLock(id, () => this.submitSignatureLocked(session, id, signature));
  }

  private async submitSignatureLocked(session: Session, id: string, signature: Hex): Promise<ApplicationRecord> {
    const app = this.get(session, id);
    const role = app.borrower === session.address ? "borrower" : app.lender === session.address ? "lender" : null;
    if (!role) throw new ForbiddenError("only the borrower and the lender sign", { textCode: "sign_not_party", params: {} });
    if (!app.offer)
      throw new ConflictError(`application is ${app.status}: no offer to sign`, undefined, {
        textCode: "no_offer_to_sign",
        params: { status: app.status },
      });
    if (app.loanId)
      throw new ConflictError("the agreement is already recorded on chain", undefined, {
        textCode: "agreement_already_recorded",
        params: {},
      });
    if (role === "lender" && !app.signatures.borrower)
      throw new ConflictError("the borrower signs first", undefined, { textCode: "borrower_signs_first", params: {} });
    // A withdrawn, expired or already signed offer takes no (further) signature.
    const expected = role === "borrower" ? "offer_issued" : "signed_by_borrower";
    if (app.status !== expected)
      throw new ConflictError(`application is ${app.status}: the ${role} cannot sign now`, undefined, {
        textCode: role === "borrower" ? "borrower_cannot_sign_now" : "lender_cannot_sign_now",
        params: { status: app.status },
      });
    // The contract checks the deadline against block time, so the service does too.
    if ((await this.chainNow()) > Number(app.offer.terms.deadline))
      throw new ConflictError("the offer has expired", undefined, { textCode: "offer_expired", params: {} });
    // publicClient.verifyTypedData handles EOAs and ERC-1271 contract wallets alike.
    const valid = await this.deps.publicClient.verifyTypedData({
      address: session.address,
      signature,
      ...this.offerTypedData(app),
    } as unknown as Parameters<PublicClient["verifyTypedData"]>[0]);
    if (!valid)
      throw new ValidationError(`not a valid ${role} signature of this offer's typed data`, "signature", {
        textCode: "signature_invalid",
        params: {},
      });
    app.signatures[role] = signature;
    const at = this.now();
    if (role === "borrower") {
      app.status = "signed_by_borrower";
      this.push(app, { step: "signed_by_borrower", at, actor: session.address });
      await this.save(app);
      return app;
    }
    await this.save(app);
    await this.submitAgreement(app);
    return this.store.get(id)!;
  }

  private async submitAgreement(app: ApplicationRecord): Promise<void> {
    const sender = this.deps.sender;
    if (!sender)
      throw new ConflictError("this service has no submitting account: submit the two signatures yourself", undefined, {
        textCode: "no_submitting_account",
        params: {},
      });
    try {
      await sender.write({
        address: this.deps.deployment.contracts.LoanAgreements,
        abi: abiOf("LoanAgreements"),
        functionName: "submitAgreement",
        args: [this.termsOf(app), app.signatures.borrower!, app.signatures.lender!],
        label: `submitting the agreement of application ${app.id}`,
      });
      delete app.submitError;
    } catch (err) {
      if (!(err instanceof TxFailedError)) throw err;
      app.submitError = err.txHash ? `${err.reason} (tx ${err.txHash})` : err.reason;
      await this.save(app);
      throw new ConflictError(`the chain refused the agreement: ${app.submitError}`, undefined, {
        textCode: "chain_refused_agreement",
        params: { error: String(app.submitError) },
      });
    }
  }

  /**
   * Undoes the steps whose chain transaction a reorg removed: a consent no longer on chain takes the
   * application back to "submitted" (its decision and offer were made under that consent), a loan
   * no longer on chain back to "signed_by_borrower", a disbursement back to "countersigned_notarized".
   * The undone steps are kept in `rolledBack`. Returns whether anything changed.
   */
  /** What of this record's chain history the index no longer holds (a reorg), if anything. Reads only. */
  private lostToReorg(app: Readonly<ApplicationRecord>, state: IndexState): "agreement" | "disbursement" | "consent" | null {
    if (app.status === "withdrawn" && !app.loanId) return null;
    if (app.loanId) {
      const loan = state.loans[app.loanId];
      if (!loan) return "agreement";
      if (!loan.disbursedAt && ["disbursed", "closed", "defaulted"].includes(app.status)) return "disbursement";
      return null;
    }
    const granted = app.timeline.find((t) => t.step === "consent_granted");
    if (!granted?.txHash) return null;
    const consent = state.consents[`${app.borrower}:${app.lender}`];
    return consent && consent.events.some((e) => e.txHash === granted.txHash) ? null : "consent";
  }

  /** Rolls the record back to before what a reorg took off the chain; true when it changed. */
  private rollBackWithChain(app: ApplicationRecord, state: IndexState): boolean {
    /** Undoes `step` and the steps after it; `reason` is told the undone step. */
    const cut = (step: string, reason: (undone: TimelineEntry) => string) => {
      const i = app.timeline.findIndex((t) => t.step === step);
      if (i < 0) return;
      const steps = app.timeline.splice(i);
      (app.rolledBack ??= []).push({ at: this.now(), reason: reason(steps[0]), steps });
      app.updatedAt = this.now();
    };
    switch (this.lostToReorg(app, state)) {
      case null:
        return false;
      case "agreement":
        cut("countersigned_notarized", () => `the agreement's transaction is no longer on chain (reorg); loan ${app.loanId} is gone`);
        delete app.loanId;
        app.status = "signed_by_borrower";
        return true;
      case "disbursement":
        cut("disbursed", () => "the disbursement is no longer on chain (reorg)");
        app.status = "countersigned_notarized";
        return true;
      case "consent": {
        cut(
          "consent_granted",
          (granted) =>
            `the consent transaction ${granted.txHash} is no longer on chain (reorg): the decision and the offer made under it are void`,
        );
        for (const k of ["decision", "decisionInput", "decisionAnchorTx", "offer", "review", "contest", "submitError"] as const)
          delete app[k];
        app.signatures = {};
        app.status = "submitted";
        return true;
      }
    }
  }

  /** Advances every open application from the indexed state. Called after each indexed batch. */
  async reconcile(): Promise<void> {
    if (this.uncopied.length > 0) this.copyReads(this.uncopied.splice(0));
    const state = this.deps.state();
    // Only against an index that reached the head: one being rebuilt does not hold every transaction yet.
    const synced = this.deps.indexSynced?.() !== false;
    // Checked in place, so only the few records a reorg touched are copied.
    for (const app of synced ? this.store.where((a) => this.lostToReorg(a, state) !== null) : []) {
      await this.withLock(app.id, async () => {
        const fresh = this.store.get(app.id);
        if (fresh && this.rollBackWithChain(fresh, state)) await this.save(fresh);
      });
    }
    // Once per start; with several processes at every pass of the one running the jobs (a decision made
    // by another process, or one whose anchor a process that died had in flight, waits for it).
    if (!this.anchorsRetried || (this.deps.runsJobs && this.deps.runsJobs())) {
      this.anchorsRetried = true;
      for (const app of this.store.where((a) => !!a.decision && !a.decisionAnchorTx && !this.anchoring.has(a.id)))
        this.startAnchor(app, decisionFromJson(app.decision));
    }
    const open = this.store.where((a) => !FINAL.has(a.status));
    if (open.length === 0) return;
    // One clock reading per pass, not one per application.
    const chainTime = await this.chainNow();
    for (const app of open) await this.withLock(app.id, () => this.reconcileOne(this.store.get(app.id) ?? app, { chainTime }));
  }

  private async reconcileOne(app: ApplicationRecord, opts: { chainTime?: number; isNew?: boolean } = {}): Promise<void> {
    const before = app.timeline.length;
    // An offer issued in this pass has no chain step yet (its digest is new, its deadline ahead).
    const offeredBefore = !!app.offer;
    /** A decision's reads, durable in the record once it is saved, then copied to the access log. */
    let toCopy: AccessRead[] = [];
    // Consents and offers are dated in block time: compare them with the chain's clock, not the wall's.
    const chainTime = opts.chainTime ?? (app.status === "submitted" || (app.offer && !app.loanId) ? await this.chainNow() : 0);
    if (app.status === "submitted") {
      const collected = await this.withIndex((index) => this.collectUnderConsent(app, index, chainTime));
      if (collected) {
        const { consent } = collected;
        const ref = consent.events[consent.events.length - 1];
        this.push(app, { step: "consent_granted", at: consent.grantedAt, actor: app.borrower, txHash: ref?.txHash });
        toCopy = await this.evaluate(app, collected, chainTime);
      }
    }
    // The chain steps after an offer read the index held in memory: they run in reconcile, where it is.
    const state = offeredBefore ? this.deps.state() : undefined;
    if (state && app.offer && !app.loanId) {
      const loanId = state.loanByDigest[app.offer.digest];
      if (loanId) {
        const loan = state.loans[loanId];
        app.loanId = loanId;
        app.status = "countersigned_notarized";
        const ref = loan.events[0];
        this.push(app, { step: "countersigned_notarized", at: loan.recordedAt, actor: loan.submitter, txHash: ref?.txHash });
      } else if (chainTime > Number(app.offer.terms.deadline) && ["offer_issued", "signed_by_borrower"].includes(app.status)) {
        app.status = "expired";
        this.push(app, { step: "expired", at: chainTime, actor: "service" });
      }
    }
    if (state && app.loanId) {
      const loan = state.loans[app.loanId];
      const refOf = (name: string) => loan.events.find((e) => e.event === name);
      if (loan.disbursedAt && app.status === "countersigned_notarized") {
        app.status = "disbursed";
        this.push(app, { step: "disbursed", at: loan.disbursedAt, actor: loan.lender, txHash: refOf("LoanDisbursed")?.txHash });
      }
      if (app.status === "disbursed" && (loan.status === "Repaid" || loan.status === "Recovered")) {
        app.status = "closed";
        this.push(app, { step: "closed", at: loan.closedAt ?? this.now(), actor: loan.borrower, txHash: refOf("LoanClosed")?.txHash });
      }
      if (app.status === "disbursed" && loan.status === "Defaulted") {
        app.status = "defaulted";
        this.push(app, {
          step: "defaulted",
          at: loan.defaultedAt ?? this.now(),
          actor: loan.lender,
          txHash: refOf("LoanDefaulted")?.txHash,
        });
      }
      if (app.status === "countersigned_notarized" && loan.status === "Cancelled") {
        app.status = "withdrawn";
        this.push(app, { step: "withdrawn", at: loan.cancelledAt ?? this.now(), actor: "service", detail: "agreement cancelled on chain" });
      }
    }
    if (opts.isNew || app.timeline.length !== before) await this.save(app);
    if (toCopy.length > 0) this.copyReads(toCopy);
  }

  /**
   * What a submitted application's decision reads, once the index holds its borrower's consent to its
   * lender in force at `chainTime` (with the scopes it asked for, granted since the offer window before
   * its creation began) and the lender active: the consent, the decision's input, the parties' names.
   * Null while not: the application waits.
   */
  private async collectUnderConsent(app: ApplicationRecord, index: ApplicationIndex, chainTime: number): Promise<UnderConsent | null> {
    const { consent, lender } = await index.run((state) => ({
      consent: state.consents[`${app.borrower}:${app.lender}`],
      lender: state.participants[app.lender],
    }));
    const inForce = consent && consent.grantedAt <= chainTime && chainTime < consent.expiresAt && !consent.revokedAt;
    const since = (app.createdAtBlockTime ?? app.createdAt) - OFFER_VALIDITY;
    // A suspended lender gets nothing collected on its behalf.
    if (!lender || lender.suspended || !inForce || (consent.scopes & app.scopes) !== app.scopes || consent.grantedAt < since) return null;
    const now = this.deps.consentNow?.(app.borrower, app.lender);
    if (now && (now.scopes & app.scopes) !== app.scopes) return null;
    const terms = {
      borrower: app.borrower,
      lender: app.lender,
      amount: BigInt(app.amount),
      termDays: app.termDays,
      receivableIds: app.receivableIds,
    };
    const input = await this.collectOn(index, terms, chainTime);
    return { consent, input, names: await index.run((state) => this.partyNames(app, state)) };
  }

  /**
   * Screen, score, decide: pure functions of the collected input, recorded with it. Returns the reads
   * to copy to the access log once the record is saved (none when they were written already).
   */
  private async evaluate(app: ApplicationRecord, { consent, input, names }: UnderConsent, asOf: number): Promise<AccessRead[]> {
    const decisionReads: DecisionReads = {
      at: new Date().toISOString(),
      asOf,
      consent: { scopes: consent.scopes, grantedAt: consent.grantedAt, expiresAt: consent.expiresAt },
      scopes: app.scopes,
      debtors: (Object.keys(input.debtorTiers ?? {}) as Address[]).sort(),
      policyVersion: this.deps.policy.version,
    };
    const reads = this.deps.recordAccess ? readEntries(app, decisionReads) : [];
    let toCopy: AccessRead[] = [];
    if (this.deps.accessRecorded && reads.length > 0) {
      // Durable with the decision, in the record's own write; copied to the access log after it.
      (app.decisionReads ??= []).push(decisionReads);
      toCopy = reads;
    } else {
      // Written first, together (the access log's group commit makes them one write and one fsync).
      await Promise.all(reads.map((r) => this.deps.recordAccess!(r)));
    }
    this.push(app, {
      step: "data_collected",
      at: asOf,
      actor: "service",
      detail: `${Object.keys(input.metrics).length} metrics, ${input.collateral.length} receivables`,
    });
    const flags = input.flags;
    this.push(app, {
      step: "screened",
      at: asOf,
      actor: "service",
      detail: flags.length ? flags.map((f) => f.code).join(", ") : "no flags",
    });
    const decision = decide(input, this.deps.policy);
    app.decisionInput = decisionInputToJson(input);
    app.decision = decisionToJson(decision) as Record<string, unknown>;
    this.push(app, { step: "scored", at: asOf, actor: "service", detail: `score ${decision.score}` });
    this.push(app, { step: "decided", at: asOf, actor: "service", detail: decision.outcome });
    if (decision.outcome === "approve") {
      this.issueOffer(app, decision.rateBps, asOf, names);
    } else if (decision.outcome === "decline") {
      app.status = "declined";
      const why = explainDecision(decision, this.deps.policy, { asked: BigInt(app.amount) }).reasons[0];
      this.push(app, { step: "declined", at: asOf, actor: "service", detail: why?.text ?? "declined by the policy" });
    } else {
      app.status = "in_review";
      this.push(app, { step: "in_review", at: asOf, actor: "service", detail: "sent to the lender's reviewer" });
    }
    this.startAnchor(app, decision);
    return toCopy;
  }

  /**
   * Queues the decision's anchor. While one anchor transaction is on its way the next decisions wait
   * and then go together in one transaction (the notary's multicall): one block and one receipt for
   * many decisions instead of one each, so the chain, the indexer and the requests meanwhile carry less.
   */
  private startAnchor(app: ApplicationRecord, decision: Decision): void {
    if (!this.deps.sender || this.anchoring.has(app.id) || this.deps.runsJobs?.() === false) return;
    let done!: () => void;
    this.anchoring.set(
      app.id,
      new Promise<void>((resolve) => (done = resolve)).finally(() => this.anchoring.delete(app.id)),
    );
    this.anchorQueue.set(app.id, { app, decision, done });
    this.anchorPump ??= this.pumpAnchors().finally(() => (this.anchorPump = null));
  }

  private issueOffer(app: ApplicationRecord, rateBps: number, start: number, names: PartyNames): void {
    const maturity = start + app.termDays * DAY;
    const terms: LoanTerms = {
      borrower: app.borrower,
      lender: app.lender,
      currency: this.deps.deployment.contracts.SettlementToken,
      principal: BigInt(app.amount),
      rateBps: BigInt(rateBps),
      start: BigInt(start),
      // Never at or past maturity, which the contract refuses.
      disburseBy: BigInt(Math.min(start + OFFER_VALIDITY + DISBURSEMENT_WINDOW, maturity - 1)),
      maturity: BigInt(maturity),
      collateral: app.receivableIds.map((id) => BigInt(id)),
      documentHash: "0x",
      nonce: BigInt(`0x${randomBytes(8).toString("hex")}`),
      deadline: BigInt(start + OFFER_VALIDITY),
    };
    app.offer = {
      terms: toJsonSafe(terms) as Offer["terms"],
      digest: "0x",
      documentSha256: "0x",
      issuedAt: start,
      documentVersion: AGREEMENT_DOCUMENT_VERSION,
      names: toJsonSafe(names) as Offer["names"],
    };
    const documentSha256 = agreementDocumentSha256(this.agreementInput(app));
    app.offer.terms.documentHash = documentSha256;
    app.offer.documentSha256 = documentSha256;
    app.offer.digest = this.digestOf(app);
    app.status = "offer_issued";
    this.push(app, {
      step: "offer_issued",
      at: start,
      actor: "service",
      detail: `${app.amount} at ${rateBps} bps for ${app.termDays} days`,
    });
  }

  private digestOf(app: ApplicationRecord): Hex {
    return hashTypedData(this.offerTypedData(app));
  }

  /** Sends the queued anchors, as many as are waiting per transaction, until none is left or close(). */
  private async pumpAnchors(): Promise<void> {
    while (this.anchorQueue.size > 0) {
      // The decision stands without its anchor meanwhile; each failure is logged with its reason and tried
      // again with backoff (with the decisions queued meanwhile), and what close() cuts off is retried by
      // the first reconcile after the next start.
      const nextBatch = () => [...this.anchorQueue.values()].slice(0, MAX_ANCHORS_PER_TX);
      const sent = await retryWithBackoff(
        () => anchorLabel(nextBatch().map((i) => i.app.id)),
        async () => {
          const batch = nextBatch();
          await this.anchorDecisions(batch);
          for (const item of batch) {
            this.anchorQueue.delete(item.app.id);
            item.done();
          }
        },
        { logger: this.deps.logger, signal: this.closing.signal, firstDelayMs: this.deps.anchorRetryMs ?? 1000 },
      );
      if (!sent) break;
    }
    if (this.anchorQueue.size > 0) {
      this.deps.logger?.warn(
        { applicationIds: [...this.anchorQueue.keys()] },
        "decision anchors not sent before close; the next start retries them",
      );
      for (const item of this.anchorQueue.values()) item.done();
      this.anchorQueue.clear();
    }
  }

  /** One transaction anchoring the decisions not yet on chain; then each record notes its anchor's transaction. */
  private async anchorDecisions(batch: { app: ApplicationRecord; decision: Decision }[]): Promise<void> {
    const sender = this.deps.sender!;
    const anchors = this.deps.state().anchors;
    // A retry after a partly recorded batch: what a record already notes is not sent again.
    const items = batch
      .filter(({ app }) => !this.store.get(app.id)?.decisionAnchorTx)
      .map(({ app, decision }) => {
        const hash = decisionHash(decision);
        // Already on chain by this account (a process that died after sending it, before recording it): recorded, not sent again.
        const known = anchors[hash.toLowerCase() as Hex];
        const onChain =
          known &&
          known.kind === KIND_DECISION &&
          known.ref.toLowerCase() === app.purpose.toLowerCase() &&
          known.anchorer.toLowerCase() === sender.address.toLowerCase()
            ? known.anchored.txHash
            : undefined;
        return { app, hash, onChain };
      });
    const toSend = items.filter((i) => !i.onChain);
    const notary = { address: this.deps.deployment.contracts.EvidenceNotary, abi: abiOf("EvidenceNotary") };
    const calls = toSend.map((i) => ({ functionName: "anchor", args: [i.hash, KIND_DECISION, i.app.purpose] as const }));
    const label = anchorLabel(toSend.map((i) => i.app.id));
    const sentTx =
      toSend.length === 0
        ? undefined
        : (
            await sender.write(
              toSend.length === 1
                ? { ...notary, ...calls[0], label }
                : {
                    ...notary,
                    functionName: "multicall",
                    args: [calls.map((c) => encodeFunctionData({ abi: notary.abi, ...c }))],
                    label,
                  },
            )
          ).transactionHash;
    for (const i of items) await this.recordAnchorTx(i.app.id, i.onChain ?? sentTx!);
  }

  /**
   * Under the application's lock, on its latest stored version: never over a step saved meanwhile
   * (another process's included: a refused write has read that version, so it is tried again on it,
   * never by sending the anchor again).
   */
  private async recordAnchorTx(id: string, txHash: Hex): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.withLock(id, async () => {
          const fresh = this.store.get(id);
          if (!fresh || fresh.decisionAnchorTx) return;
          fresh.decisionAnchorTx = txHash;
          await this.save(fresh);
        });
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || tries >= 5) throw err;
      }
    }
  }

  termsOf(app: ApplicationRecord): LoanTerms {
    return loanTermsFromJson(app.offer!.terms);
  }

  /**
   * Appends a step. Steps are recorded in the order they happened (a chain step is seen after the
   * request that led to it), but the chain's clock and the service's differ: a step is never dated
   * before the one ahead of it, and a chain step keeps its block time in `blockTime`.
   */
  private push(app: ApplicationRecord, entry: TimelineEntry): void {
    const last = app.timeline[app.timeline.length - 1];
    if (entry.txHash) entry.blockTime = entry.at;
    if (last && entry.at < last.at) entry.at = last.at;
    app.timeline.push(entry);
    app.updatedAt = this.now();
  }

  private async save(app: ApplicationRecord): Promise<void> {
    app.revision = (app.revision ?? 0) + 1;
    await this.store.put(app);
    this.emit("update", app);
  }

  /**
   * Another process changed application `id` (a notification on the database's LISTEN connection):
   * its record is read again, and listeners (SSE streams, notifications) are told as for a local step.
   * True when this process's copy changed.
   */
  async changedElsewhere(id: string, tag?: string): Promise<boolean> {
    if (!(this.store instanceof PostgresRecordStore)) return false;
    const fresh = await this.store.refresh(id, tag);
    if (fresh) this.emit("update", fresh);
    return !!fresh;
  }

  /** Notifications may have been missed (the LISTEN connection was down): every record is read again. */
  async resyncFromStore(): Promise<void> {
    if (!(this.store instanceof PostgresRecordStore)) return;
    for (const app of await this.store.reload()) this.emit("update", app);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.anchoring.values()]);
    await this.locks.settled();
    await Promise.all([...this.copying]);
    await this.store.close();
  }
}
