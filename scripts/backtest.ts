/**
 * `npm run backtest -- [--policy FILE.json | --version V] [--data DIR] [--lender 0x..] [--term DAYS]
 *  [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--csv OUT.csv]`
 * Back-tests a policy over a service's data directory (its index and applications, read only; the
 * service may be stopped or running): the lender's past applications (all lenders' without --lender)
 * and monthly cases of the enterprises that never applied, beside the policy in force. Prints the
 * table per score band; --csv writes the same as the API's CSV. Exit 2 on a usage error.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JournalStore } from "../node-service/src/applications/journal-store";
import type { ApplicationRecord } from "../node-service/src/applications/types";
import type { Address } from "../node-service/src/domain/entities";
import { DAY } from "../node-service/src/domain/time";
import { CURRENCY, toMajor } from "../node-service/src/domain/money";
import { createLowdbIndexStore } from "../node-service/src/store/index-store";
import { backtestCsv, backtestReport, type BandRow } from "../node-service/src/underwriting/backtest";
import { inMemoryApplicationIndex } from "../node-service/src/underwriting/application-index";
import { CURRENT_POLICY, parsePolicy, policyByVersion } from "../node-service/src/underwriting/policy";

const USAGE =
  "usage: backtest [--policy FILE.json | --version V] [--data DIR] [--lender 0x..] [--term DAYS] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--csv OUT.csv]";

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function day(s: string | undefined, name: string): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(`${s}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(t)) throw new Error(`${name} must be YYYY-MM-DD`);
  return t / 1000;
}

function line(r: BandRow): string {
  const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);
  const o = r.outcomes;
  return `${r.band.padEnd(6)} ${String(r.cases).padStart(6)} ${String(r.approved).padStart(8)} ${pct(r.approvalRate).padStart(8)} ${toMajor(r.approvedAmount).padStart(16)} ${`${o.on_time}/${o.late}/${o.defaulted}/${o.open}`.padStart(16)} ${pct(r.badDebtRate).padStart(8)}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const policyFile = arg(argv, "--policy");
  const version = arg(argv, "--version");
  const dataDir = path.resolve(arg(argv, "--data") ?? process.env.DATA_DIR ?? "data");
  const lender = arg(argv, "--lender")?.toLowerCase() as Address | undefined;
  const termDays = Number(arg(argv, "--term") ?? 30);
  if ((policyFile && version) || !Number.isInteger(termDays) || termDays < 1 || (lender && !/^0x[0-9a-f]{40}$/.test(lender))) {
    console.error(USAGE);
    return 2;
  }
  const policy = policyFile
    ? parsePolicy(JSON.parse(readFileSync(policyFile, "utf8")))
    : version
      ? policyByVersion(version)
      : CURRENT_POLICY;

  const doc = await (await createLowdbIndexStore(dataDir)).load();
  if (!doc) throw new Error(`no index in ${dataDir}`);
  const state = doc.state;
  const apps = (await JournalStore.open<ApplicationRecord>(path.join(dataDir, "applications"), "applications"))
    .all()
    .filter((a) => !lender || a.lender === lender);
  let latest = 0;
  for (const refs of Object.values(state.eventsByTx)) for (const r of refs) latest = Math.max(latest, r.at);
  const to = day(arg(argv, "--to"), "--to") ?? latest;
  const from = day(arg(argv, "--from"), "--from") ?? to - 365 * DAY;

  const t0 = performance.now();
  const report = await inMemoryApplicationIndex(
    () => state,
    CURRENT_POLICY,
  )((index) =>
    backtestReport(index, { applications: apps, lender: lender ?? (("0x" + "0".repeat(40)) as Address), policy, from, to, termDays }),
  );
  const ms = performance.now() - t0;

  const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);
  console.log(
    `back-test ${iso(from)}..${iso(to)}: ${report.cases.applications} past applications, ${report.cases.monthly} monthly cases (${termDays} days), in ${(ms / 1000).toFixed(2)} s`,
  );
  console.log("outcomes are on time/late/defaulted/open of the approved cases; bad debt = defaulted amount / approved amount");
  for (const p of report.policies) {
    console.log(`\n${p.version}${p.inForce ? " (in force)" : ""}: ${p.name}`);
    console.log(`band    cases approved     rate  approved ${CURRENCY.code}      on/late/def/open bad debt`);
    for (const r of [...p.bands, p.total]) console.log(line(r));
  }
  const out = arg(argv, "--csv");
  if (out) {
    writeFileSync(out, backtestCsv(report));
    console.log(`\nwrote ${out}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
