/**
 * PostgreSQL out of reach under two running service processes (its connections cut, new ones refused):
 * no process dies; what needs the database answers 503 `database_unavailable` with Retry-After (nothing
 * is acknowledged that is not committed) and /healthz says so; a process stopped meanwhile stops
 * cleanly; when the database is back, every process serves again, one writes the index again, and the
 * database's index equals a fresh rebuild of the chain, with the events of the outage in it. And a
 * host that takes connections but never answers makes nothing wait longer than the connect timeout;
 * a network path cut under open connections makes nothing wait longer than the query timeout, and a
 * process cut off stops trusting what it keeps in memory (sessions) within the LISTEN heartbeat.
 */
import { expect } from "chai";
import net from "node:net";
import pg from "pg";
import { HEARTBEAT_MS, isDatabaseUnavailable, openDatabase } from "../../node-service/src/store/postgres/db";
import pino from "pino";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import type { IndexStore } from "../../node-service/src/store/index-store";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { createIndexLeadership, LOCK_INDEXER } from "../../node-service/src/store/postgres/leader";
import { createChangeListener } from "../../node-service/src/store/postgres/listener";
import { createDeliveredOrder, generateHistory, issueConfirmedReceivable } from "../../scripts/lib/chain-helpers";
import { freshDatabase, testPostgres } from "../../scripts/lib/test-postgres";
import { call, postApplication, signIn } from "./api-helpers";
import { expectIndexEqualsFreshRebuild, until, useServiceProcesses, type ServiceProcess } from "./service-processes";

/**
 * A TCP proxy to PostgreSQL that can go silent the way a cut network path does: `cut()` stops carrying
 * bytes both ways on every connection, without closing any (no RST, no FIN reaches either side), and new
 * connections are taken and never forwarded; `heal()` drops the cut connections and forwards new ones.
 */
async function cuttableProxy(target: URL) {
  let cut = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    client.on("error", () => undefined);
    if (cut) return void pairs.add([client, client]);
    const upstream = net.connect(Number(target.port), target.hostname);
    // A cut path carries no close either.
    upstream.on("error", () => !cut && client.destroy());
    client.on("close", () => !cut && upstream.destroy());
    upstream.on("close", () => !cut && client.destroy());
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on("data", (d) => !cut && upstream.write(d));
    upstream.on("data", (d) => !cut && client.write(d));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  url.hostname = "127.0.0.1";
  return {
    url: url.toString(),
    cut: () => void (cut = true),
    heal() {
      for (const [a, b] of pairs) (a.destroy(), b.destroy());
      pairs.clear();
      cut = false;
    },
    async close() {
      this.heal();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("several service processes when PostgreSQL is out of reach", function () {
  this.timeout(180_000);
  const fixture = useServiceProcesses();

  it("no process dies, writes answer 503 and nothing is acknowledged, one stops cleanly, and all resume with nothing lost when it is back", async () => {
    const { net, parties } = await fixture.startNetwork();
    const { buyer, supplier, lender } = parties;
    const receivables: string[] = [];
    for (let i = 0; i < 3; i++) {
      const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 1_000_000n, complete: true });
      receivables.push((await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 1_000_000n })).receivableId.toString());
    }
    const { databaseUrl, env } = await fixture.workspace("pg-outage-", net.deployment);
    const database = new URL(databaseUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: (await testPostgres()).adminUrl });
    await admin.connect();
    const db = await openDatabase(databaseUrl, { max: 1 });
    const checkpoint = async () =>
      (await db.pool.query<{ checkpoint: { blockNumber: number } | null }>("SELECT checkpoint FROM index_meta WHERE id = 1")).rows[0]
        ?.checkpoint?.blockNumber ?? -1;
    const head = async () => Number(await net.publicClient.getBlockNumber());
    const apply = (p: ServiceProcess, token: string, receivableId: string) =>
      postApplication(p.url, token, { amount: 100_000n, lender: lender.account.address, receivableIds: [receivableId] });

    try {
      const scraper = { METRICS_TOKEN: `scrape-${"0123456789abcdef".repeat(3)}` };
      const scrape = async (p: ServiceProcess) => {
        const res = await call(p.url, "GET", "/metrics", { token: scraper.METRICS_TOKEN });
        expect(res.status, `${p.url} /metrics: ${JSON.stringify(res.body)}`).to.equal(200);
        return res.body as string;
      };
      const a = await fixture.start({ ...env("a"), ...scraper });
      const h0 = await head();
      await until("the first process to write the index", 30_000, async () => (await checkpoint()) === h0);
      const b = await fixture.start({ ...env("b"), ...scraper });
      expect(await scrape(a)).to.match(/^scf_database_up 1$/m);
      const token = await signIn(a.url, supplier as never);
      const before = await apply(a, token, receivables[0]);
      expect(before.status, JSON.stringify(before.body)).to.equal(201);

      // The database goes away: every connection cut, new ones refused.
      await db.close();
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [database]);
      // The chain goes on meanwhile.
      await generateHistory(net, { ...parties, orders: 2, anchors: 1, tag: "outage" });

      for (const p of [a, b]) {
        const health = await until(`${p.url} /healthz to report the database`, 10_000, async () => {
          const res = await call(p.url, "GET", "/healthz");
          return res.status === 503 && res;
        });
        expect(health.body.database.ok, JSON.stringify(health.body)).to.equal(false);
        expect(health.body.status).to.match(/database/);
        // A write needs the database: refused as retryable, and nothing was created.
        const during = await apply(p, token, receivables[1]);
        expect(during.status, JSON.stringify(during.body)).to.equal(503);
        expect(during.body.error.code).to.equal("database_unavailable");
        expect(during.headers.get("retry-after")).to.match(/^\d+$/);
        // Signing in needs it too (the nonces and sessions are there).
        const nonce = await call(p.url, "GET", "/api/auth/nonce");
        expect(nonce.status, JSON.stringify(nonce.body)).to.equal(503);
        // The scraper still reads the process's metrics, which say the database is down; the count of
        // sessions, which lives in the database, is unknown (NaN), not a made-up zero.
        const metrics = await scrape(p);
        expect(metrics).to.match(/^scf_database_up 0$/m);
        expect(metrics).to.match(/^scf_sessions NaN$/m);
        expect(metrics).to.match(/^scf_indexer_block [1-9][0-9]*$/m);
      }
      for (const p of [a, b]) expect(p.child.exitCode, `${p.url} still running`).to.equal(null);
      // A process stopped meanwhile (an operator's restart) stops cleanly: it holds nothing acknowledged
      // that is not in the database, and the index it could not write is on chain.
      const stopping = Date.now();
      b.child.kill("SIGTERM");
      await until("B to stop during the outage", 20_000, async () => b.child.exitCode !== null);
      console.log(`      B stopped ${Date.now() - stopping} ms after SIGTERM, exit code ${b.child.exitCode}`);
      expect(b.child.exitCode).to.equal(0);
      fixture.processes.splice(fixture.processes.indexOf(b), 1);

      // It comes back: both serve again, the index in the database reaches the head with the outage's events.
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      const back = await openDatabase(databaseUrl, { max: 1 });
      const restarted = await fixture.start({ ...env("b"), ...scraper });
      try {
        for (const p of [a, restarted]) {
          await until(`${p.url} healthy again`, 20_000, async () => (await call(p.url, "GET", "/healthz")).status === 200);
          expect(await scrape(p)).to.match(/^scf_database_up 1$/m);
        }
        const h1 = await head();
        await until("the index in the database at the head again", 20_000, async () => {
          const rows = await back.pool.query<{ checkpoint: { blockNumber: number } | null }>(
            "SELECT checkpoint FROM index_meta WHERE id = 1",
          );
          return rows.rows[0]?.checkpoint?.blockNumber === h1;
        });
        await expectIndexEqualsFreshRebuild(fixture, net, back);
        // The application made before the outage is there on both; the one refused during it was not made.
        const after = await apply(restarted, token, receivables[1]);
        expect(after.status, JSON.stringify(after.body)).to.equal(201);
        for (const p of [a, restarted]) {
          const mine = await call(p.url, "GET", "/api/applications?role=borrower", { token });
          expect((mine.body.applications as { id: string }[]).map((x) => x.id).sort()).to.deep.equal(
            [before.body.id, after.body.id].sort(),
          );
        }
      } finally {
        await back.close();
      }
    } finally {
      await db.close().catch(() => undefined); // already closed when the outage began
      await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
    }
  });

  it("a database host that takes connections and never answers: opening, the writer's lock and LISTEN give up within seconds instead of hanging", async () => {
    // A TCP server that accepts and then says nothing, as a hung host or a half-open path does.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `postgres://scf:scf@127.0.0.1:${(silent.address() as net.AddressInfo).port}/scf`;
    const within = async <T>(what: string, ms: number, p: Promise<T>): Promise<T> => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)),
      );
      try {
        return await Promise.race([p, late]);
      } finally {
        clearTimeout(timer);
        console.log(`      ${what}: ${Date.now() - started} ms`);
      }
    };
    const leadership = createIndexLeadership({
      url,
      inner: { load: async () => null, save: async () => ({ bytes: 1, ms: 0 }) },
      retryMs: 60_000,
    });
    let gaveUp: () => void = () => undefined;
    const listenFailed = new Promise<void>((r) => (gaveUp = r));
    const quiet = () => undefined;
    const listener = createChangeListener({
      url,
      handlers: {},
      firstRetryMs: 60_000,
      logger: { info: quiet, error: quiet, warn: () => gaveUp() },
    });
    try {
      const [opened, saved] = await Promise.all([
        within(
          "opening the database",
          10_000,
          openDatabase(url).then(
            () => "opened",
            (err: Error) => err,
          ),
        ),
        within("a commit asking for the writer's lock", 10_000, leadership.store.save({} as never)),
        within("LISTEN's first attempt", 10_000, listenFailed),
      ]);
      expect(isDatabaseUnavailable(opened), String(opened)).to.equal(true);
      expect(saved, "not the writer: nothing written").to.deep.equal({ bytes: 0, ms: 0 });
      expect(leadership.isLeader()).to.equal(false);
      expect(listener.synced()).to.equal(false);
    } finally {
      await leadership.close();
      await listener.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
  it("a database that stays out of reach is warned of once by the writer's lock, not at every retry", async () => {
    // A port nothing listens on: each attempt is refused at once, so 20 ms retries make many attempts.
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const url = `postgres://scf:scf@127.0.0.1:${(closed.address() as net.AddressInfo).port}/scf`;
    await new Promise((r) => closed.close(r));
    const warnings: unknown[][] = [];
    const leadership = createIndexLeadership({
      url,
      inner: { load: async () => null, save: async () => ({ bytes: 1, ms: 0 }) },
      retryMs: 20,
      logger: { info: () => undefined, error: () => undefined, warn: (...args: unknown[]) => void warnings.push(args) } as never,
    });
    try {
      for (let i = 0; i < 15; i++) await leadership.store.save({} as never);
      await new Promise((r) => setTimeout(r, 300));
      expect(leadership.isLeader()).to.equal(false);
      expect(warnings, JSON.stringify(warnings.map((w) => w[w.length - 1]))).to.have.length(1);
      expect(String(warnings[0][warnings[0].length - 1])).to.match(/could not ask for the index writer's lock/);
    } finally {
      await leadership.close();
    }
  });
  it("while a cut path has shown the database out of reach, the pool refuses at once instead of each query waiting out its timeout, and serves again within a second of the path healing", async () => {
    const proxy = await cuttableProxy(new URL(await freshDatabase()));
    const db = await openDatabase(proxy.url, { max: 4 });
    const timed = async (p: Promise<unknown>) => {
      const t0 = Date.now();
      const err = await p.then(
        () => null,
        (e: Error) => e,
      );
      return { ms: Date.now() - t0, err };
    };
    try {
      // Connections in the pool (idle) and in use, as a running service has.
      await Promise.all([1, 2, 3].map(() => db.pool.query("SELECT pg_sleep(0.05)")));
      proxy.cut();
      const first = await timed(db.tx((c) => c.query("SELECT 1")));
      console.log(`      the first transaction over the cut path: failed in ${first.ms} ms (${first.err?.message})`);
      expect(isDatabaseUnavailable(first.err), String(first.err)).to.equal(true);
      // What follows, transactions and plain queries alike, is refused at once: no socket, no place in the pool's queue.
      const after = await Promise.all([
        ...Array.from({ length: 10 }, () => timed(db.tx((c) => c.query("SELECT 1")))),
        ...Array.from({ length: 10 }, () => timed(db.pool.query("SELECT 1"))),
      ]);
      const slowest = Math.max(...after.map((r) => r.ms));
      console.log(`      20 more over the cut path: the slowest failed in ${slowest} ms`);
      for (const r of after) expect(isDatabaseUnavailable(r.err), String(r.err)).to.equal(true);
      expect(slowest).to.be.below(500);
      const health = await db.probe();
      expect(health.ok).to.equal(false);
      expect(health.since).to.be.a("string");

      proxy.heal();
      const healedAt = Date.now();
      await until("the pool to serve again", 10_000, () =>
        db.pool.query("SELECT 1").then(
          () => true,
          () => false,
        ),
      );
      console.log(`      served again ${Date.now() - healedAt} ms after the path healed`);
      expect(Date.now() - healedAt).to.be.below(3_000);
      expect((await db.probe()).ok).to.equal(true);
    } finally {
      await db.close();
      await proxy.close();
    }
  });
  it("a full pool, or the server refusing more connections (53300), is the database busy, not gone: the pool does not start refusing", async () => {
    const admin = new pg.Client({ connectionString: (await testPostgres()).adminUrl });
    await admin.connect();
    // A role allowed one connection (limits do not apply to a superuser), owning a database of its own.
    const name = `scf_busy_${Date.now().toString(36)}`;
    await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD 'busy' CONNECTION LIMIT 1`);
    await admin.query(`CREATE DATABASE ${name} OWNER ${name}`);
    const url = new URL((await testPostgres()).adminUrl);
    url.username = name;
    url.password = "busy";
    url.pathname = `/${name}`;
    const db = await openDatabase(url.toString(), { max: 2 });
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: Error) => e,
      );
    try {
      // Two at once: one takes the pool's open connection, the other a new one, which the server refuses.
      const [one, two] = await Promise.all([outcome(db.pool.query("SELECT pg_sleep(0.05)")), outcome(db.pool.query("SELECT 1"))]);
      expect(one).to.equal("ok");
      expect((two as { code?: string }).code, String(two)).to.equal("53300");
      // The open connection serves the next one at once.
      expect(await outcome(db.tx((c) => c.query("SELECT 1")))).to.equal("ok");
      expect((await db.probe()).ok).to.equal(true);

      // The pool's one connection stays busy: the probe waits out the pool's queue (5 s) and fails; the
      // next query waits its turn instead of being refused.
      await admin.query(`ALTER ROLE ${name} CONNECTION LIMIT -1`);
      const small = await openDatabase(url.toString(), { max: 1 });
      try {
        let release: () => void = () => undefined;
        const holding = small.tx(() => new Promise<void>((r) => (release = r)));
        const health = await small.probe();
        const next = outcome(small.pool.query("SELECT 1"));
        expect(health.error).to.match(/timeout exceeded when trying to connect/);
        release();
        await holding;
        expect(await next).to.equal("ok");
      } finally {
        await small.close();
      }
    } finally {
      await db.close();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE ${name}`);
      await admin.end();
    }
  });
  it("a network path cut under open connections: requests answer 503 within the query timeout, then at once, a sign-out elsewhere is honoured within the LISTEN heartbeat, and the process heals", async () => {
    const { net: chain, parties } = await fixture.startNetwork();
    const { buyer, supplier, lender } = parties;
    const receivables: string[] = [];
    for (let i = 0; i < 2; i++) {
      const orderId = await createDeliveredOrder(chain, { buyer, supplier, amount: 1_000_000n, complete: true });
      receivables.push(
        (await issueConfirmedReceivable(chain, { supplier, buyer, orderId, faceValue: 1_000_000n })).receivableId.toString(),
      );
    }
    const { databaseUrl, env } = await fixture.workspace("pg-cut-", chain.deployment);
    const proxy = await cuttableProxy(new URL(databaseUrl));
    try {
      const b = await fixture.start(env("b"));
      const a = await fixture.start({ ...env("a"), DATABASE_URL: proxy.url });
      const token = await signIn(a.url, supplier as never);
      await until(
        "A to know the session from memory (LISTEN up)",
        10_000,
        async () => (await call(a.url, "GET", "/api/auth/me", { token })).status === 200,
      );
      const timed = async (what: string, fn: () => Promise<{ status: number }>) => {
        const t0 = Date.now();
        const res = await Promise.race([
          fn(),
          new Promise<{ status: number }>((resolve) => setTimeout(() => resolve({ status: -1 }), 25_000)),
        ]);
        console.log(`      ${what}: ${res.status === -1 ? "no answer after 25 s" : res.status} in ${Date.now() - t0} ms`);
        return { ...res, ms: Date.now() - t0 };
      };

      proxy.cut();
      // B, on an intact path, signs the session out. A cannot hear of it: it must stop trusting its memory.
      expect((await call(b.url, "POST", "/api/auth/logout", { token })).status).to.equal(200);
      const signedOutAt = Date.now();
      let lastAnsweredAt = signedOutAt;
      const refused = await until("A to stop answering the signed-out session", 15_000, async () => {
        const sentAt = Date.now();
        const res = await timed("A, GET /api/auth/me with the signed-out token", () => call(a.url, "GET", "/api/auth/me", { token }));
        if (res.status === 200) lastAnsweredAt = sentAt;
        return res.status !== 200 && res;
      });
      expect(refused.status).to.be.oneOf([401, 503]);
      // The bound the README states: the heartbeat notices the cut within 2 x HEARTBEAT_MS (plus polls and late timers).
      console.log(`      the signed-out session was last answered ${lastAnsweredAt - signedOutAt} ms after the sign-out`);
      expect(lastAnsweredAt - signedOutAt).to.be.at.most(2 * HEARTBEAT_MS + 1_500);
      // A write needs the database: a bounded 503, not a hang.
      const during = await timed("A, POST /api/applications during the cut", () =>
        postApplication(a.url, token, { amount: 100_000n, lender: lender.account.address, receivableIds: [receivables[0]] }),
      );
      expect(during.status).to.be.oneOf([401, 503]);
      expect(during.ms, "the LISTEN heartbeat has told the pool").to.be.below(1_000);
      // Once A knows the database is out of reach (its LISTEN heartbeat told it), requests do not each
      // wait out a timeout: ten at once are all answered 503 at once.
      const many = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          timed(`A, request ${i + 1} of 10 at once during the cut`, () => call(a.url, "GET", "/api/auth/me", { token })),
        ),
      );
      for (const r of many) expect(r.status).to.equal(503);
      expect(Math.max(...many.map((r) => r.ms))).to.be.below(1_000);
      const health = await timed("A, /healthz during the cut", () => call(a.url, "GET", "/healthz"));
      expect(health.status).to.equal(503);

      proxy.heal();
      await until("A healthy again", 30_000, async () => (await call(a.url, "GET", "/healthz")).status === 200);
      expect((await call(a.url, "GET", "/api/auth/me", { token })).status).to.equal(401);
      const fresh = await signIn(a.url, supplier as never);
      const after = await until("A to take an application again", 30_000, async () => {
        const res = await postApplication(a.url, fresh, {
          amount: 100_000n,
          lender: lender.account.address,
          receivableIds: [receivables[1]],
        });
        return res.status === 201 && res;
      });
      expect(after.status).to.equal(201);
      for (const p of [a, b]) expect(p.child.exitCode, `${p.url} still running`).to.equal(null);
    } finally {
      await proxy.close();
    }
  });
  it("a writer cut off from its lock connection, whose lock the server has given to another, cannot write the index any more", async () => {
    const { net: chain, parties } = await fixture.startNetwork();
    await generateHistory(chain, { ...parties, orders: 2, tag: "before" });
    const { databaseUrl } = await fixture.workspace("pg-fence-", chain.deployment);
    const proxy = await cuttableProxy(new URL(databaseUrl));
    const db = await openDatabase(databaseUrl);
    const admin = new pg.Client({ connectionString: (await testPostgres()).adminUrl });
    await admin.connect();
    const checkpoint = async () =>
      (await db.pool.query<{ checkpoint: { blockNumber: number } }>("SELECT checkpoint FROM index_meta WHERE id = 1")).rows[0].checkpoint
        .blockNumber;
    const indexerOn = async (store: IndexStore) =>
      createIndexer({
        publicClient: chain.publicClient,
        deployment: chain.deployment,
        dataDir: "/nonexistent-unused",
        store,
        logger: pino({ level: "silent" }),
      });
    // A's lock connection goes through the proxy, its writes straight to the database. Its heartbeat is
    // slowed down so that only the fence can stop it: the case of a process paused (GC, SIGSTOP) past it.
    const a = createIndexLeadership({ url: proxy.url, inner: await createPostgresIndexStore(db), heartbeatMs: 600_000 });
    const b = createIndexLeadership({ url: databaseUrl, inner: await createPostgresIndexStore(db) });
    try {
      const indexerA = await indexerOn(a.store);
      await indexerA.syncOnce();
      expect(a.isLeader()).to.equal(true);
      const h1 = Number(await chain.publicClient.getBlockNumber());
      expect(await checkpoint()).to.equal(h1);

      // The path to A's lock connection is cut; the server ends that session (as its TCP keepalives would), so the lock is free.
      proxy.cut();
      const ended = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = $2)`,
        [Number(LOCK_INDEXER), new URL(databaseUrl).pathname.slice(1)],
      );
      expect(ended.rowCount).to.equal(1);
      const indexerB = await indexerOn(b.store);
      await until("B to take the free lock (it asks every second)", 10_000, async () => b.isLeader());
      expect(a.isLeader(), "A has heard nothing").to.equal(true);

      // The chain moves on; A, still believing it writes, commits what it indexed: refused inside its transaction.
      await generateHistory(chain, { ...parties, orders: 1, tag: "after" });
      await indexerA.syncOnce();
      expect(await checkpoint(), "the index is still the one B wrote").to.equal(h1);
      expect(a.isLeader()).to.equal(false);
      // B, the one writer, goes on.
      await indexerB.syncOnce();
      expect(await checkpoint()).to.equal(Number(await chain.publicClient.getBlockNumber()));
      await indexerA.stop();
      await indexerB.stop();
    } finally {
      await a.close();
      await b.close();
      await proxy.close();
      await admin.end();
      await db.close();
    }
  });
  it("a writer whose lock connection stops answering stops writing within its heartbeat, and stops (close) without waiting on it", async () => {
    const { net: chain } = await fixture.startNetwork();
    const { databaseUrl } = await fixture.workspace("pg-heartbeat-", chain.deployment);
    const proxy = await cuttableProxy(new URL(databaseUrl));
    const db = await openDatabase(databaseUrl);
    const writer = createIndexLeadership({ url: proxy.url, inner: await createPostgresIndexStore(db) });
    try {
      await until("the writer to take the lock", 10_000, async () => writer.isLeader());
      proxy.cut();
      const cutAt = Date.now();
      await until("the writer to stop writing", 10_000, async () => !writer.isLeader());
      const noticed = Date.now() - cutAt;
      console.log(`      stopped writing ${noticed} ms after the cut`);
      expect(noticed).to.be.at.most(2 * HEARTBEAT_MS + 1_500); // two heartbeats, and timers late on a busy machine
      const closing = Date.now();
      await writer.close();
      expect(Date.now() - closing).to.be.below(3_000);
    } finally {
      await writer.close();
      await proxy.close();
      await db.close();
    }
  });
});
