/**
 * Two service processes on one PostgreSQL database, two ports, no proxy, a `hardhat node` over HTTP:
 * one writes the index (advisory lock), a nonce issued by one signs in on the other (once), a session
 * opened on one works on the other; the writer is
 * killed with SIGKILL, the other takes the lock within seconds and the index in the database ends
 * equal to a fresh rebuild of the chain, with nothing lost.
 */
import { expect } from "chai";
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { generateHistory, type Wallet } from "../../scripts/lib/chain-helpers";
import { call, siweMessage } from "./api-helpers";
import { expectIndexEqualsFreshRebuild, until, useServiceProcesses, type ServiceProcess } from "./service-processes";

describe("several service processes on one PostgreSQL database", function () {
  this.timeout(300_000);
  const fixture = useServiceProcesses();

  it("one writes the index; sessions are shared; SIGKILL the writer and the other takes over with nothing lost", async () => {
    const { net, parties } = await fixture.startNetwork();
    const { supplier, lender } = parties;
    await generateHistory(net, { ...parties, orders: 4, anchors: 2, tag: "before" });

    // Behind the proxy every process answers for one public host.
    const PUBLIC = { domain: "scf.example", uri: "https://scf.example/" };
    const { databaseUrl, env } = await fixture.workspace("pg-failover-", net.deployment, { SIWE_DOMAIN: PUBLIC.domain });
    const db = await openDatabase(databaseUrl, { max: 2 });
    const checkpoint = async () =>
      (await db.pool.query<{ checkpoint: { blockNumber: number } | null }>("SELECT checkpoint FROM index_meta WHERE id = 1")).rows[0]
        ?.checkpoint?.blockNumber ?? -1;
    const head = async () => Number(await net.publicClient.getBlockNumber());
    const indexedOn = async (p: ServiceProcess) => (await call(p.url, "GET", "/healthz")).body.indexedBlock as number;

    try {
      const a = await fixture.start(env("a"));
      const h0 = await head();
      await until("the first process to write the index", 30_000, async () => (await checkpoint()) === h0);
      const b = await fixture.start(env("b"));
      expect(a.url).to.not.equal(b.url);

      // A proxy may send the nonce request to one process and the signed message to another: a nonce A
      // issued signs in on B, once (the same message again, on either, is refused).
      const signInAcross = async (wallet: Wallet, nonceFrom: ServiceProcess, verifyOn: ServiceProcess) => {
        const message = await siweMessage(nonceFrom.url, wallet.account.address, PUBLIC);
        const signature = await wallet.signMessage({ message, account: wallet.account });
        const verified = await call(verifyOn.url, "POST", "/api/auth/verify", { body: { message, signature } });
        expect(verified.status, JSON.stringify(verified.body)).to.equal(200);
        return { message, signature, token: verified.body.token as string };
      };
      const { message, signature, token } = await signInAcross(supplier, a, b);
      for (const p of [a, b]) {
        const replayed = await call(p.url, "POST", "/api/auth/verify", { body: { message, signature } });
        expect(replayed.status).to.equal(401);
        expect(replayed.body.error.text.textCode).to.equal("siwe_nonce_unknown");
      }
      // A session opened on one process works on the other.
      const me = await call(a.url, "GET", "/api/auth/me", { token });
      expect(me.status).to.equal(200);
      expect(me.body.address.toLowerCase()).to.equal(supplier.account.address.toLowerCase());
      // A session ended on one process is refused there at once, and on every other once the sign-out's
      // notification arrives (B answered it from memory before): a copied token dies with the logout.
      const ended = (await signInAcross(lender, b, a)).token;
      expect((await call(b.url, "GET", "/api/auth/me", { token: ended })).status).to.equal(200);
      expect((await call(a.url, "POST", "/api/auth/logout", { token: ended })).status).to.equal(200);
      const loggedOutAt = Date.now();
      expect((await call(a.url, "GET", "/api/auth/me", { token: ended })).status).to.equal(401);
      await until(
        "B to refuse the session ended on A",
        2_000,
        async () => (await call(b.url, "GET", "/api/auth/me", { token: ended })).status === 401,
      );
      console.log(`      a sign-out on A refused on B within ${Date.now() - loggedOutAt} ms`);

      // Both follow the chain; the database follows it through the writer.
      await generateHistory(net, { ...parties, orders: 3, tag: "both" });
      const h1 = await head();
      await until("both processes at the head", 30_000, async () => (await indexedOn(a)) === h1 && (await indexedOn(b)) === h1);
      const bothAt = Date.now();
      // The writer commits at the head every 2 s while its commits are small (indexer.ts commitInterval).
      await until("the index in the database at the head", 30_000, async () => (await checkpoint()) === h1);
      console.log(`      the index in the database at the head ${Date.now() - bothAt} ms after both processes`);

      // Kill the writer; the chain goes on; the other takes over.
      a.child.kill("SIGKILL");
      await a.exited;
      fixture.processes.splice(fixture.processes.indexOf(a), 1);
      await generateHistory(net, { ...parties, orders: 3, anchors: 1, tag: "after" });
      const h2 = await head();
      const killedAt = Date.now();
      await until("the other process to write the index", 20_000, async () => (await checkpoint()) === h2);
      const takeoverMs = Date.now() - killedAt;
      console.log(`      takeover: the index in the database reached the head ${takeoverMs} ms after the chain moved on`);
      expect(takeoverMs).to.be.below(10_000);
      expect((await call(b.url, "GET", "/api/auth/me", { token })).status).to.equal(200);

      // Nothing lost: the database's index equals a fresh rebuild of the chain.
      await expectIndexEqualsFreshRebuild(fixture, net, db);
      // Exactly one holds the writer's lock now.
      const locks = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      expect(Number(locks.rows[0].n)).to.equal(1);
    } finally {
      await db.close();
    }
  });
});
