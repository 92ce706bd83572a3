/**
 * Back-test: what a policy would have decided over history, using only what was known then, beside
 * the policy in force.
 *
 * Cases:
 * - every past application: its stored decision snapshot gives the application, the collateral and
 *   the risk flags as they were at the decision's moment; the metrics (borrower and debtors) are
 *   recomputed at that same instant (point in time, so they are what was known then, and they include
 *   indicators added since, which a new policy may use);
 * - for enterprises that never applied: one case at the end of every UTC calendar month, applying for
 *   the most its pledgeable receivables allowed then under the policy judged (collateral, flags and
 *   metrics all as of that instant).
 *
 * Outcome of an approved case, observed at `now`: for an application that became a loan, that loan's
 * (on time: repaid in full by maturity; late: repaid in full after; defaulted: declared in default;
 * open: not yet due, or past due and not yet 90 days late). Otherwise a self-liquidating loan of the
 * amount repaid from the collateral's collections after the case's moment: on time when they reach the
 * amount by maturity (asOf + term), late when they reach it later, defaulted when the borrower had a
 * loan declared in default between the case and 90 days after maturity or the amount is still not
 * collected 90 days after maturity, open otherwise.
 */
import { compareIds, type Address, type IndexState, type ReceivableEntity } from "../domain/entities";
import { DAY } from "../domain/time";
import { Money, Term, toCsv, type CsvLanguage } from "../domain/csv";
import { CURRENCY } from "../domain/money";
import { ratio } from "../metrics/math";
import { by, enterpriseRecords, loanLiveAt, pledgedLoanAt, repaidBy } from "../metrics/records";
import { screenBorrower, type RiskFlag } from "../risk/screen";
import { collateralLimit, decide, decisionInputFromJson, type CollateralItem, type DecisionInput, type MetricValues } from "./decide";
import { CURRENT_POLICY, type Policy } from "./policy";
import { ROLE } from "../chain/eip712";
import { debtorsOf, type ApplicationIndex } from "./application-index";

/** Days after maturity from which an unpaid case counts as defaulted. */
export const DEFAULT_AFTER_DAYS = 90;
/** Score bands of the report: [min, max). */
export const SCORE_BANDS: readonly { label: string; min: number; max: number }[] = [
  { label: "0-39", min: -Infinity, max: 40 },
  { label: "40-54", min: 40, max: 55 },
  { label: "55-69", min: 55, max: 70 },
  { label: "70-84", min: 70, max: 85 },
  { label: "85+", min: 85, max: Infinity },
];
export const OUTCOMES = ["on_time", "late", "defaulted", "open"] as const;
export type CaseOutcome = (typeof OUTCOMES)[number];

export interface BacktestCase {
  kind: "application" | "monthly";
  borrower: Address;
  lender: Address;
  /** The decision's moment (block time, seconds). */
  asOf: number;
  /** Requested amount; undefined for a monthly case (the most its collateral allows under each policy). */
  amount?: bigint;
  termDays: number;
  collateral: CollateralItem[];
  flags: RiskFlag[];
  /** The loan that came of the application, if any. */
  loanId?: string;
}

/** A stored application as the back-test reads it. */
export interface PastApplication {
  lender: Address;
  decisionInput?: unknown;
  loanId?: string;
}

/** One case per past application that reached a decision (the stored snapshot says what was known). */
export function applicationCases(apps: readonly PastApplication[]): BacktestCase[] {
  const out: BacktestCase[] = [];
  for (const app of apps) {
    if (app.decisionInput === undefined) continue;
    const input = decisionInputFromJson(app.decisionInput);
    out.push({
      kind: "application",
      borrower: input.application.borrower,
      lender: input.application.lender,
      asOf: input.asOf,
      amount: input.application.amount,
      termDays: input.application.termDays,
      collateral: input.collateral,
      flags: input.flags,
      loanId: app.loanId,
    });
  }
  return out;
}

/** Receivables the borrower could have pledged at `at`: held then, confirmed, unpaid, not matured, not pledged to a live loan. */
export function pledgeableAt(state: IndexState, borrower: Address, at: number): CollateralItem[] {
  const rec = enterpriseRecords(state, borrower, at);
  const out: CollateralItem[] = [];
  for (const h of rec.held) {
    const r = h.receivable;
    if (!h.confirmed || h.unpaid <= 0n || r.maturity <= at) continue;
    const loanId = pledgedLoanAt(r, at);
    const loan = loanId === undefined ? undefined : state.loans[loanId];
    if (loan && loanLiveAt(loan, at)) continue;
    out.push({ id: r.id, faceValue: r.faceValue, outstanding: h.unpaid, debtor: r.debtor, maturity: r.maturity });
  }
  return out.sort((a, b) => compareIds(a.id, b.id));
}

/** Month ends (last second of each UTC calendar month) from `from`'s month to the last one ending by `to`. */
export function monthEnds(from: number, to: number): number[] {
  const d = new Date(from * 1000);
  const out: number[] = [];
  for (let m = d.getUTCMonth() + 1; ; m++) {
    const end = Date.UTC(d.getUTCFullYear(), m, 1) / 1000 - 1;
    if (end > to) break;
    if (end >= from) out.push(end);
  }
  return out;
}

/** The monthly case of `enterprise` at the month end `at`, or null when it had nothing pledgeable then. */
function monthlyCase(state: IndexState, enterprise: Address, at: number, opts: { termDays: number; lender: Address }): BacktestCase | null {
  const collateral = pledgeableAt(state, enterprise, at);
  if (collateral.length === 0) return null;
  return {
    kind: "monthly",
    borrower: enterprise,
    lender: opts.lender,
    asOf: at,
    termDays: opts.termDays,
    collateral,
    flags: screenBorrower(state, enterprise, { asOf: at }),
  };
}

/**
 * Monthly cases for the given enterprises (those that never applied): at each month end between `from`
 * and `to` when the enterprise had pledgeable receivables.
 */
export function monthlyCases(
  state: IndexState,
  enterprises: readonly Address[],
  opts: { from: number; to: number; termDays: number; lender: Address },
): BacktestCase[] {
  const ends = monthEnds(opts.from, opts.to);
  return enterprises.flatMap((e) => ends.map((at) => monthlyCase(state, e, at, opts)).filter((c) => c !== null));
}

/**
 * One borrower's cases, found over the index its cases are decided on (`backtest`: on a reader, that
 * borrower's keys, read once for finding its cases and deciding them).
 */
interface BorrowerCases {
  borrower: Address;
  cases(index: ApplicationIndex): Promise<BacktestCase[]>;
}

/**
 * The monthly cases of `enterprise` (one that never applied), month end by month end: a large
 * enterprise's walk is one month end at a time between awaits, so the process goes on answering meanwhile.
 */
function monthlyCasesOf(enterprise: Address, opts: { from: number; to: number; termDays: number; lender: Address }): BorrowerCases {
  return {
    borrower: enterprise,
    async cases(index) {
      const out: BacktestCase[] = [];
      for (const at of monthEnds(opts.from, opts.to)) {
        const c = await index.run((state) => monthlyCase(state, enterprise, at, opts));
        if (c) out.push(c);
      }
      return out;
    },
  };
}

/** monthlyCases read enterprise by enterprise, each apart (on a reader, one enterprise's keys held at a time). */
export async function monthlyCasesOn(
  index: ApplicationIndex,
  enterprises: readonly Address[],
  opts: { from: number; to: number; termDays: number; lender: Address },
): Promise<BacktestCase[]> {
  const out: BacktestCase[] = [];
  for (const e of enterprises) out.push(...(await index.apart((apart) => monthlyCasesOf(e, opts).cases(apart))));
  return out;
}

/** Cases known beforehand (past applications), grouped by borrower in the order first met. */
function byBorrower(cases: readonly BacktestCase[]): BorrowerCases[] {
  const groups = new Map<Address, BacktestCase[]>();
  for (const c of cases) {
    const group = groups.get(c.borrower);
    if (group) group.push(c);
    else groups.set(c.borrower, [c]);
  }
  return [...groups].map(([borrower, group]) => ({ borrower, cases: async () => group }));
}

export interface CaseResult {
  outcome: "approve" | "refer" | "decline";
  score: number;
  amount: bigint;
  /** Set for an approved case. */
  observed?: CaseOutcome;
}

export interface BandRow {
  band: string;
  cases: number;
  approved: number;
  approvalRate: number | null;
  approvedAmount: bigint;
  outcomes: Record<CaseOutcome, number>;
  defaultedAmount: bigint;
  /** defaultedAmount / approvedAmount. */
  badDebtRate: number | null;
}

export interface PolicyColumn {
  version: string;
  name: string;
  inForce: boolean;
  bands: BandRow[];
  total: BandRow;
}

export interface BacktestReport {
  now: number;
  cases: { applications: number; monthly: number };
  policies: PolicyColumn[];
}

function inputFor(c: BacktestCase, policy: Policy, debtors: Record<Address, MetricValues>, metrics: MetricValues): DecisionInput {
  const amount = c.amount ?? collateralLimit(c.collateral, policy, { asOf: c.asOf, debtors });
  return {
    application: { borrower: c.borrower, lender: c.lender, amount, termDays: c.termDays, receivableIds: c.collateral.map((x) => x.id) },
    metrics,
    flags: c.flags,
    collateral: c.collateral,
    debtors,
    asOf: c.asOf,
  };
}

/** Collections on the collateral after the case's moment, by time `t`. */
function collectedBy(state: IndexState, c: BacktestCase, t: number): bigint {
  let sum = 0n;
  for (const item of c.collateral) {
    const stack: (ReceivableEntity | undefined)[] = [state.receivables[item.id]];
    while (stack.length > 0) {
      const r = stack.pop();
      if (!r) continue;
      for (const p of r.payments) if (p.at > c.asOf && p.at <= t) sum += p.amount;
      for (const child of r.childIds ?? []) stack.push(state.receivables[child]);
    }
  }
  return sum;
}

/** What became of an approved case, as known at `now`. */
export function observedOutcome(state: IndexState, c: BacktestCase, amount: bigint, now: number): CaseOutcome {
  const loan = c.loanId === undefined ? undefined : state.loans[c.loanId];
  if (loan) {
    if (by(loan.defaultedAt, now)) return "defaulted";
    const repaid = repaidBy(loan, now);
    if (repaid >= loan.totalDue) return repaidBy(loan, loan.maturity) >= loan.totalDue ? "on_time" : "late";
    return now - loan.maturity > DEFAULT_AFTER_DAYS * DAY ? "defaulted" : "open";
  }
  const maturity = c.asOf + c.termDays * DAY;
  const cutoff = maturity + DEFAULT_AFTER_DAYS * DAY;
  if (collectedBy(state, c, maturity) >= amount) return "on_time";
  const defaulted = (state.loansByParty[c.borrower] ?? []).some((id) => {
    const l = state.loans[id];
    return (
      l !== undefined &&
      l.borrower === c.borrower &&
      l.defaultedAt !== undefined &&
      l.defaultedAt > c.asOf &&
      l.defaultedAt <= Math.min(cutoff, now)
    );
  });
  if (defaulted) return "defaulted";
  if (collectedBy(state, c, now) >= amount) return "late";
  return now > cutoff ? "defaulted" : "open";
}

/** Decides one case under one policy, its debtors' tier metrics and the borrower's metrics given (as of the case's moment). */
function caseResult(
  state: IndexState,
  c: BacktestCase,
  policy: Policy,
  read: { debtors: Record<Address, MetricValues>; metrics: MetricValues },
  now: number,
): CaseResult {
  const input = inputFor(c, policy, read.debtors, read.metrics);
  const d = decide(input, policy, { hashInput: false });
  const amount = input.application.amount;
  return d.outcome === "approve"
    ? { outcome: d.outcome, score: d.score, amount, observed: observedOutcome(state, c, amount, now) }
    : { outcome: d.outcome, score: d.score, amount };
}

function row(band: string, results: readonly CaseResult[]): BandRow {
  const approved = results.filter((r) => r.outcome === "approve");
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, approved.filter((r) => r.observed === o).length])) as Record<
    CaseOutcome,
    number
  >;
  const approvedAmount = approved.reduce((s, r) => s + r.amount, 0n);
  const defaultedAmount = approved.filter((r) => r.observed === "defaulted").reduce((s, r) => s + r.amount, 0n);
  return {
    band,
    cases: results.length,
    approved: approved.length,
    approvalRate: ratio(approved.length, results.length),
    approvedAmount,
    outcomes,
    defaultedAmount,
    badDebtRate: ratio(defaultedAmount, approvedAmount),
  };
}

/**
 * The report: each policy's decisions over the same cases, per score band, the policy in force first.
 * The cases are decided borrower by borrower, each apart (on a reader, one borrower's keys are held at a
 * time); a debtor's tier reads only the metrics the policy's tiers name, as an application's limit does.
 */
export async function backtest(
  index: ApplicationIndex,
  cases: readonly BacktestCase[],
  policies: readonly { policy: Policy; inForce: boolean }[],
  now: number,
): Promise<BacktestReport> {
  return decideBorrowers(index, byBorrower(cases), policies, now);
}

/** `backtest` over each borrower's cases, found and decided on the same apart read of the index. */
async function decideBorrowers(
  index: ApplicationIndex,
  borrowers: readonly BorrowerCases[],
  policies: readonly { policy: Policy; inForce: boolean }[],
  now: number,
): Promise<BacktestReport> {
  const columns = [...policies].sort((a, b) => Number(b.inForce) - Number(a.inForce));
  const results: CaseResult[][] = columns.map(() => []);
  const counted = { applications: 0, monthly: 0 };
  for (const borrower of borrowers)
    await index.apart(async (apart) => {
      // Its cases read its metrics at each month end: its records loaded at once, not one level of its split trees per round.
      await apart.prefetchSlice(borrower.borrower);
      for (const c of await borrower.cases(apart)) {
        counted[c.kind === "application" ? "applications" : "monthly"] += 1;
        // The borrower's metrics are the same under every policy, and policies with the same advance
        // tiers read the same debtor metrics: each read once per case.
        const metrics = await apart.metricsAt(c.borrower, c.asOf);
        const tiersRead = new Map<string, Record<Address, MetricValues>>();
        for (const [i, { policy }] of columns.entries()) {
          const tiers = JSON.stringify(policy.advance.tiers);
          let debtors = tiersRead.get(tiers);
          if (!debtors) tiersRead.set(tiers, (debtors = await apart.tierMetrics(debtorsOf(c.collateral), c.asOf, policy)));
          const given = debtors;
          results[i].push(await apart.run((state) => caseResult(state, c, policy, { debtors: given, metrics }, now)));
        }
      }
    });
  return {
    now,
    cases: counted,
    policies: columns.map(({ policy, inForce }, i) => ({
      version: policy.version,
      name: policy.name,
      inForce,
      bands: SCORE_BANDS.map((b) =>
        row(
          b.label,
          results[i].filter((r) => r.score >= b.min && r.score < b.max),
        ),
      ),
      total: row("all", results[i]),
    })),
  };
}

/**
 * The back-test of `policy` beside the policy in force, as of `to`: the lender's past applications
 * decided in [from, to] and monthly cases of the suppliers that never applied to it.
 */
export async function backtestReport(
  index: ApplicationIndex,
  opts: {
    applications: readonly (PastApplication & { borrower: Address })[];
    lender: Address;
    policy: Policy;
    from: number;
    to: number;
    termDays: number;
  },
): Promise<BacktestReport> {
  const { from, to, termDays, lender, policy } = opts;
  const applied = new Set<Address>(opts.applications.map((a) => a.borrower));
  const neverApplied = Object.values(await index.participants())
    .filter((p) => (p.roles & ROLE.SUPPLIER) !== 0 && !applied.has(p.address))
    .map((p) => p.address)
    .sort();
  // A borrower that never applied has its monthly cases found where they are decided: its keys are read once.
  const borrowers = [
    ...byBorrower(applicationCases(opts.applications).filter((c) => c.asOf >= from && c.asOf <= to)),
    ...neverApplied.map((e) => monthlyCasesOf(e, { from, to, termDays, lender })),
  ];
  const policies = [
    { policy: CURRENT_POLICY, inForce: true },
    ...(policy.version === CURRENT_POLICY.version ? [] : [{ policy, inForce: false }]),
  ];
  return decideBorrowers(index, borrowers, policies, to);
}

/** RFC 4180 CSV of the report: one line per policy and band (and its total); amounts in major units, currency last. */
export function backtestCsv(report: BacktestReport, lang: CsvLanguage = "en"): string {
  const header = [
    "policy",
    "in_force",
    "band",
    "cases",
    "approved",
    "approval_rate",
    "approved_amount",
    ...OUTCOMES,
    "defaulted_amount",
    "bad_debt_rate",
    "currency",
  ];
  const rows = report.policies.flatMap((p) =>
    [...p.bands, p.total].map((r) => [
      p.version,
      p.inForce,
      r === p.total ? new Term(r.band) : r.band,
      r.cases,
      r.approved,
      r.approvalRate,
      new Money(r.approvedAmount),
      ...OUTCOMES.map((o) => r.outcomes[o]),
      new Money(r.defaultedAmount),
      r.badDebtRate,
      CURRENCY.code,
    ]),
  );
  return toCsv(header, rows, lang);
}
