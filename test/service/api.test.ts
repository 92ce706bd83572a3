/**
 * The HTTP API over a real Hardhat network, the real indexer and the real express server on port 0:
 * sign-in, every route, and every refusal (session, role, consent, expiry, revocation, input, limits).
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { IncomingMessage, ServerResponse } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import path from "node:path";
import { getHeapStatistics } from "node:v8";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Address } from "viem";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { computeMetrics, monthlySeries } from "../../node-service/src/metrics/compute";
import { METRIC_DEFINITIONS } from "../../node-service/src/metrics/definitions";
import { toJsonSafe } from "../../node-service/src/domain/json";
import { EVENT_LOOP_RESOLUTION_MS } from "../../node-service/src/api/prometheus";
import type { RunningService } from "../../node-service/src/server";
import { collectGarbage } from "../../scripts/lib/gc";
import {
  DAY,
  call,
  deployNetwork,
  postSignIn,
  rawGet,
  removeDir,
  signIn,
  signInAll,
  startTestService,
  tempDataDir,
  testConfig,
  waitConsentsSeen,
  waitIndexed,
  type Network,
} from "./api-helpers";

/** The scraper's token this file's service is started with (METRICS_TOKEN). */
const METRICS_TOKEN = "scrape-" + "0123456789abcdef".repeat(3);

describe("HTTP API", function () {
  let net: Network;
  let dataDir: string;
  let service: RunningService;
  let base: string;
  let tokens: Record<"operator" | "supplier" | "buyer" | "lender" | "lender2" | "auditor" | "outsider", string>;
  let supplier: Address;
  let supplier2: Address;
  let lender: Address;
  let loan: Awaited<ReturnType<Network["loanOnce"]>>;

  const get = (url: string, token?: string) => call(base, "GET", url, { token });

  async function indexed() {
    await waitIndexed(service, net.publicClient);
  }

  async function grant(scopes: number, expiresIn = 30 * DAY, from = net.supplier, to = net.lender) {
    const expiresAt = (await net.latestTime()) + expiresIn;
    await net.send(from, "ConsentRegistry", "grant", [to.account.address, scopes, expiresAt, net.h("application-1")]);
    // Consents take effect from the block that includes them, once the service has seen that block.
    await waitConsentsSeen(service, net.publicClient);
    return expiresAt;
  }

  before(async function () {
    net = await deployNetwork();
    supplier = net.supplier.account.address.toLowerCase() as Address;
    supplier2 = net.supplier2.account.address.toLowerCase() as Address;
    lender = net.lender.account.address.toLowerCase() as Address;
    const { receivableId } = await net.tradeOnce(1_000_000n);
    await net.tradeOnce(250_000n);
    loan = await net.loanOnce(receivableId, { principal: 600_000n, repay: 100_000n, receivablePayment: 300_000n });
    await net.tradeOnce(75_000n, net.supplier2);
    dataDir = await tempDataDir(net.deployment);
    service = await startTestService(testConfig(dataDir, { METRICS_TOKEN }));
    base = service.url;
    await indexed();
    tokens = await signInAll(base, net, ["operator", "supplier", "buyer", "lender", "lender2", "auditor", "outsider"]);
  });

  after(async function () {
    await service?.close();
    if (dataDir) await removeDir(dataDir);
  });

  describe("service routes", function () {
    it("reports the indexer caught up on /healthz with its lag in blocks", async function () {
      const res = await get("/healthz");
      expect(res.status).to.equal(200);
      expect(res.body.status).to.equal("ok");
      expect(res.body.lagBlocks).to.equal(0);
      expect(res.body.indexedBlock).to.equal(Number(await net.publicClient.getBlockNumber()));
    });

    it("never shows the index ahead of the head on /healthz, even when the index moves within the head's 250 ms cache", async function () {
      const before = await get("/healthz");
      expect(before.body.lagBlocks).to.equal(0);
      // A new block, indexed at once: faster than the 250 ms for which /healthz reuses the node's head.
      await net.send(net.operator, "SettlementToken", "mint", [net.supplier.account.address, 1n]);
      await service.indexer.syncOnce();
      const after = await get("/healthz");
      expect(after.body.indexedBlock).to.equal(before.body.indexedBlock + 1);
      expect(after.body.headBlock).to.be.at.least(after.body.indexedBlock);
      expect(after.body).to.include({ status: "ok", lagBlocks: 0 });
    });

    it("serves Prometheus text with the indexed block, lag, events per second and request latency, to the operator only", async function () {
      await get("/api/metrics/definitions");
      expect((await get("/metrics")).status).to.equal(401);
      for (const who of ["lender", "auditor", "outsider"] as const) {
        const refused = await get("/metrics", tokens[who]);
        expect(refused.status).to.equal(403);
        expect(JSON.stringify(refused.body)).not.to.include("scf_sessions");
      }
      const res = await get("/metrics", tokens.operator);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^text\/plain/);
      const head = Number(await net.publicClient.getBlockNumber());
      expect(res.body).to.include(`scf_indexer_block ${head}\n`);
      expect(res.body).to.include("scf_indexer_lag_blocks 0\n");
      expect(res.body).to.match(/^scf_indexer_events_per_second [0-9.e+-]+$/m);
      expect(res.body).to.match(/^scf_indexer_events_total [1-9][0-9]*$/m);
      expect(res.body).to.match(/^http_request_duration_seconds_count\{route="GET \/api\/metrics\/definitions",status="200"\} [1-9]/m);
      expect(res.body).to.include('http_request_duration_seconds_bucket{route="GET /api/metrics/definitions",status="200",le="+Inf"}');
    });

    it("lets a scraper's METRICS_TOKEN read /metrics and nothing else, and refuses a token one character off", async function () {
      const scraped = await get("/metrics", METRICS_TOKEN);
      expect(scraped.status).to.equal(200);
      expect(scraped.body).to.match(/^scf_indexer_block [1-9][0-9]*$/m);
      expect(scraped.body).to.match(/^scf_sessions [1-9][0-9]*$/m);
      expect((await get("/metrics", `${METRICS_TOKEN.slice(0, -1)}x`)).status).to.equal(401);
      expect((await get("/metrics", METRICS_TOKEN.slice(0, -1))).status).to.equal(401);
      // The event loop's delay since the previous scrape: a 300 ms stall between two scrapes is there. The
      // first scrape started the histogram, whose first tick (EVENT_LOOP_RESOLUTION_MS later) only sets its
      // baseline: a stall begun before that tick is not measured (max NaN, seen once in an earlier run).
      await new Promise((r) => setTimeout(r, 5 * EVENT_LOOP_RESOLUTION_MS));
      const stallUntil = performance.now() + 300;
      while (performance.now() < stallUntil); // the service runs in this process: its loop stalls too
      const delay = (await get("/metrics", METRICS_TOKEN)).body as string;
      const seconds = (name: string) => Number(new RegExp(`^scf_event_loop_delay_${name}_seconds (\\S+)$`, "m").exec(delay)?.[1]);
      expect(seconds("max")).to.be.within(0.28, 5);
      expect(seconds("p99")).to.be.at.most(seconds("max"));
      // ...and the next scrape measures from this one: the stall is no longer in it.
      await new Promise((r) => setTimeout(r, 100));
      expect(
        Number(/^scf_event_loop_delay_max_seconds (\S+)$/m.exec((await get("/metrics", METRICS_TOKEN)).body as string)?.[1]),
      ).to.be.below(0.28);
      // It is not a session: every other route treats it as no sign-in at all.
      for (const url of ["/api/auth/me", `/api/enterprises/${supplier}/metrics`, `/api/enterprises/${supplier}/access-log`])
        expect((await get(url, METRICS_TOKEN)).status, url).to.equal(401);
    });

    it("counts the process's garbage-collection pauses by kind in /metrics", async function () {
      const pauses = async () => {
        const text = (await get("/metrics", METRICS_TOKEN)).body as string;
        const value = (name: string) => Number(new RegExp(`^${name}\\{kind="minor"\\} (\\S+)$`, "m").exec(text)?.[1]);
        return { count: value("scf_gc_pauses_total"), seconds: value("scf_gc_pause_seconds_total") };
      };
      const before = await pauses();
      // Garbage made in this process, which is the service's too: the young generation fills and is collected.
      const junk: object[] = [];
      for (let i = 0; i < 2_000_000; i++) {
        junk.push({ i });
        if (junk.length === 10_000) junk.length = 0;
      }
      // Read again a few times: a collection under way when the first read ran is counted at the next.
      let after = await pauses();
      for (let tries = 0; after.count === before.count && tries < 20; tries++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await pauses();
      }
      expect(before.count).to.be.at.least(0);
      expect(after.count).to.be.above(before.count);
      expect(after.seconds).to.be.above(before.seconds);
    });

    it("reports the process's memory in /metrics: resident set, heap in use and its limit, and the live heap after the last full collection", async function () {
      const memory = async () => {
        const text = (await get("/metrics", METRICS_TOKEN)).body as string;
        const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
        return {
          rss: value("process_resident_memory_bytes"),
          used: value("scf_heap_used_bytes"),
          limit: value("scf_heap_limit_bytes"),
          live: value("scf_heap_live_bytes"),
        };
      };
      await memory(); // the first scrape starts watching the collections
      // Garbage that the full collection frees, then data made after it and still held at the scrape:
      // neither is live at the collection, so the live heap leaves both out and the heap in use has the second.
      void new Array(2_000_000).fill(0.5);
      collectGarbage();
      const liveAtCollection = process.memoryUsage().heapUsed;
      const heldSince = new Array(2_000_000).fill(0.25); // 16 MB
      const m = await memory();
      expect(heldSince.length).to.equal(2_000_000); // still held here, after the scrape
      expect(Math.abs(m.live - liveAtCollection)).to.be.below(2 * 1024 * 1024);
      expect(m.used - m.live).to.be.at.least(15 * 1024 * 1024);
      expect(m.limit).to.equal(getHeapStatistics().heap_size_limit);
      expect(m.rss).to.be.above(m.used);
    });

    it("compresses a JSON answer in one piece, with its length, when the client accepts gzip or brotli, and only then", async function () {
      const url = `/api/enterprises/${supplier}/metrics`;
      const auth = { authorization: `Bearer ${tokens.supplier}` };
      const plain = await rawGet(base, url, auth);
      expect(plain.status).to.equal(200);
      expect(plain.headers["content-encoding"]).to.equal(undefined);
      expect(plain.headers.vary).to.match(/accept-encoding/i);
      expect(plain.body.length).to.be.at.least(1024); // long enough to be compressed
      const answer: unknown = JSON.parse(plain.body.toString("utf8"));
      for (const [accept, encoding, decode] of [
        ["gzip, deflate", "gzip", gunzipSync],
        ["br", "br", brotliDecompressSync],
      ] as const) {
        const res = await rawGet(base, url, { ...auth, "accept-encoding": accept });
        expect(res.status).to.equal(200);
        expect(res.headers["content-encoding"]).to.equal(encoding);
        // In one piece: the length is declared (a compression stream sends chunks without one).
        expect(res.headers["content-length"]).to.equal(String(res.body.length));
        expect(res.body.length).to.be.below(plain.body.length);
        expect(res.headers["content-type"]).to.equal("application/json; charset=utf-8");
        expect(JSON.parse(decode(res.body).toString("utf8"))).to.deep.equal(answer);
        // Asked again with the ETag it was given: not modified.
        expect(
          (await rawGet(base, url, { ...auth, "accept-encoding": accept, "if-none-match": String(res.headers.etag) })).status,
        ).to.equal(304);
      }
      // Not without the client's word, nor when it refuses both, nor for a short answer.
      expect((await rawGet(base, url, { ...auth, "accept-encoding": "identity" })).headers["content-encoding"]).to.equal(undefined);
      expect((await rawGet(base, url, { ...auth, "accept-encoding": "gzip;q=0, br;q=0" })).headers["content-encoding"]).to.equal(undefined);
      const short = await rawGet(base, "/healthz", { "accept-encoding": "gzip" });
      expect(short.body.length).to.be.below(1024);
      expect(short.headers["content-encoding"]).to.equal(undefined);
    });

    it("creates each request and response with express's prototypes, so that express re-parents none of them", async function () {
      // Express sets the prototype of each request and response it is handed (app.handle). A changed
      // prototype kept each request's objects alive through V8's young-generation collections (see
      // createHttpServer): watch every such call while a public and a signed-in request are served.
      const seen: { kind: string; changed: boolean }[] = [];
      const setPrototypeOf = Object.setPrototypeOf;
      Object.setPrototypeOf = (o: object, proto: object | null) => {
        if (o instanceof IncomingMessage || o instanceof ServerResponse)
          seen.push({ kind: o instanceof IncomingMessage ? "request" : "response", changed: Object.getPrototypeOf(o) !== proto });
        return setPrototypeOf(o, proto);
      };
      try {
        expect((await get("/healthz")).status).to.equal(200);
        expect((await get(`/api/enterprises/${supplier}/metrics`, tokens.supplier)).status).to.equal(200);
      } finally {
        Object.setPrototypeOf = setPrototypeOf;
      }
      // Express still makes its call for each one; none of them changes anything.
      expect(seen.filter((s) => s.kind === "request")).to.have.length.of.at.least(2);
      expect(seen.filter((s) => s.kind === "response")).to.have.length.of.at.least(2);
      expect(seen.filter((s) => s.changed)).to.deep.equal([]);
    });

    it("describes every route in an OpenAPI 3.1 document with the zod schemas", async function () {
      const res = await get("/api/openapi.json");
      expect(res.status).to.equal(200);
      expect(res.body.openapi).to.equal("3.1.0");
      const paths = Object.keys(res.body.paths);
      for (const p of [
        "/healthz",
        "/metrics",
        "/api/openapi.json",
        "/api/config",
        "/api/metrics/definitions",
        "/api/auth/nonce",
        "/api/auth/verify",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/enterprises/{address}/metrics",
        "/api/enterprises/{address}/series",
        "/api/enterprises/{address}/orders",
        "/api/enterprises/{address}/receivables",
        "/api/enterprises/{address}/loans",
        "/api/enterprises/{address}/access-log",
        "/api/lenders/{address}/portfolio.csv",
      ]) {
        expect(paths, p).to.include(p);
      }
      // Every route express actually serves is described (walks the app's router stack).
      type Layer = { rawPath?: unknown; route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
      const served: string[] = [];
      const walk = (stack: Layer[], prefix: string) => {
        for (const layer of stack) {
          if (layer.route) {
            for (const m of Object.keys(layer.route.methods)) served.push(`${m} ${(prefix + layer.route.path).replace(/:(\w+)/g, "{$1}")}`);
          } else if (layer.handle?.stack) {
            walk(layer.handle.stack, prefix + (typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : ""));
          }
        }
      };
      walk((service.app as unknown as { router: { stack: Layer[] } }).router.stack, "");
      expect(served.length).to.be.at.least(14);
      for (const route of served) {
        const [method, p] = route.split(" ");
        expect(res.body.paths[p]?.[method], route).to.be.an("object");
      }

      const metrics = res.body.paths["/api/enterprises/{address}/metrics"].get;
      const addressParam = metrics.parameters.find((p: { name: string }) => p.name === "address");
      expect(addressParam).to.deep.include({ in: "path", required: true });
      expect(addressParam.schema.pattern).to.equal("^0x[0-9a-fA-F]{40}$");
      expect(Object.keys(metrics.responses)).to.include.members(["200", "400", "401", "403", "404"]);
      const verify = res.body.paths["/api/auth/verify"].post;
      expect(verify.requestBody.content["application/json"].schema.required).to.deep.equal(["message", "signature"]);
    });

    it("gives the web UI the chain id, contract addresses, public RPC URL and dev-accounts flag", async function () {
      const res = await get("/api/config");
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ chainId: 31337, publicRpcUrl: "http://127.0.0.1:8545", devAccounts: false, explorerTxUrl: null });
      expect(res.body.contracts).to.deep.equal(net.deployment.contracts);
    });

    it("lists the demo accounts for the UI's picker only when dev accounts are on", async function () {
      expect((await get("/api/config")).body).to.not.have.property("demoAccounts");
      const devDir = await tempDataDir(net.deployment);
      const accounts = [
        { index: 0, address: net.operator.account.address, name: "Consortium operator", roles: [] },
        { index: 1, address: supplier, name: "Acme Castings", roles: ["SUPPLIER"] },
      ];
      await writeFile(path.join(devDir, "demo-accounts.json"), JSON.stringify({ seed: 1, chainId: 31337, accounts }));
      const dev = await startTestService(
        testConfig(devDir, { DEV_ACCOUNTS: true, EXPLORER_TX_URL: "https://explorer.example/tx/{hash}?net=scf" }),
      );
      try {
        const res = await call(dev.url, "GET", "/api/config");
        expect(res.body.devAccounts).to.equal(true);
        // The block explorer's URL template, as configured, for the UI to link transaction hashes.
        expect(res.body.explorerTxUrl).to.equal("https://explorer.example/tx/{hash}?net=scf");
        expect(res.body.demoAccounts).to.deep.equal([
          { index: 0, address: net.operator.account.address, name: "Consortium operator", role: "OPERATOR" },
          { index: 1, address: supplier, name: "Acme Castings", role: "SUPPLIER" },
        ]);
      } finally {
        await dev.close();
        await removeDir(devDir);
      }
    });

    it("serves every metric's definition", async function () {
      const res = await get("/api/metrics/definitions");
      expect(res.status).to.equal(200);
      expect(res.body.definitions).to.deep.equal(METRIC_DEFINITIONS);
      expect(res.body.definitions.length).to.be.at.least(20);
    });

    it("sets security headers and echoes a request id, generating one when none is given", async function () {
      const given = await call(base, "GET", "/api/config", { headers: { "x-request-id": "trace-42" } });
      expect(given.headers.get("x-request-id")).to.equal("trace-42");
      const generated = await get("/api/config");
      expect(generated.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
      expect(generated.headers.get("x-content-type-options")).to.equal("nosniff");
      expect(generated.headers.get("content-security-policy")).to.include("connect-src 'self' http://127.0.0.1:8545");
      const forged = await call(base, "GET", "/api/config", { headers: { "x-request-id": "bad id\twith spaces" } });
      expect(forged.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    });

    it("answers unknown API routes with a JSON 404", async function () {
      const res = await get("/api/nothing-here");
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal("not_found");
    });
  });

  describe("sign-in with Ethereum", function () {
    it("opens a session whose roles come from the chain", async function () {
      const res = await get("/api/auth/me", tokens.supplier);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ address: supplier, roles: 1, operator: false, roleNames: ["SUPPLIER"] });
      const op = await get("/api/auth/me", tokens.operator);
      expect(op.body).to.deep.include({ operator: true, roles: 0 });
      const outsider = await get("/api/auth/me", tokens.outsider);
      expect(outsider.body).to.deep.include({ roles: 0, operator: false });
    });

    it("sets an HttpOnly SameSite=Strict cookie that authenticates like the bearer token", async function () {
      const res = await postSignIn(base, net.buyer);
      expect(res.status).to.equal(200);
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).to.match(/^scf_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).to.include("HttpOnly");
      expect(cookie).to.include("SameSite=Strict");
      const me = await call(base, "GET", "/api/auth/me", { headers: { cookie: cookie.split(";")[0] } });
      expect(me.status).to.equal(200);
      expect(me.body.address).to.equal(net.buyer.account.address.toLowerCase());
    });

    it("reads roles at request time: a suspended participant loses its role at once", async function () {
      await net.send(net.operator, "ParticipantRegistry", "suspend", [net.auditor.account.address, 7]);
      const suspended = await get("/api/auth/me", tokens.auditor);
      expect(suspended.body.roles).to.equal(0);
      await net.send(net.operator, "ParticipantRegistry", "reinstate", [net.auditor.account.address]);
      const back = await get("/api/auth/me", tokens.auditor);
      expect(back.body.roles).to.equal(ROLE.AUDITOR);
    });

    it("accepts a nonce only once", async function () {
      const first = await postSignIn(base, net.lender);
      expect(first.status).to.equal(200);
      const replay = await call(base, "POST", "/api/auth/verify", { body: { message: first.message, signature: first.signature } });
      expect(replay.status).to.equal(401);
      expect(replay.body.error).to.include({ code: "siwe_rejected", field: "message" });
      expect(replay.body.error.message).to.match(/nonce/);
      expect(replay.body.error.text).to.deep.equal({ textCode: "siwe_nonce_unknown", params: {} });
    });

    it("refuses a nonce the service never issued", async function () {
      const res = await postSignIn(base, net.lender, { fields: { nonce: "abcdefgh12345678" } });
      expect(res.status).to.equal(401);
      expect(res.body.error.message).to.match(/nonce unknown/);
    });

    it("refuses a message made for another domain", async function () {
      const res = await postSignIn(base, net.lender, { fields: { domain: "evil.example" } });
      expect(res.status).to.equal(401);
      expect(res.body.error.message).to.match(/domain evil\.example is not this service/);
      expect(res.body.error.text).to.deep.include({ textCode: "siwe_wrong_domain" });
      expect(res.body.error.text.params.domain).to.equal("evil.example");
    });

    it("refuses a message made for another chain", async function () {
      const res = await postSignIn(base, net.lender, { fields: { chainId: 1 } });
      expect(res.status).to.equal(401);
      expect(res.body.error.message).to.match(/chain id 1 is not this network's 31337/);
      expect(res.body.error.text).to.deep.equal({ textCode: "siwe_wrong_chain", params: { chainId: "1", expected: "31337" } });
    });

    it("refuses an expired message", async function () {
      const res = await postSignIn(base, net.lender, { fields: { expirationTime: new Date(Date.now() - 1000) } });
      expect(res.status).to.equal(401);
      expect(res.body.error.message).to.match(/has expired/);
      expect(res.body.error.text).to.deep.equal({ textCode: "siwe_expired", params: {} });
    });

    it("refuses a message signed by another account than the one it names", async function () {
      const res = await postSignIn(base, net.outsider, { address: net.lender.account.address });
      expect(res.status).to.equal(401);
      expect(res.body.error.field).to.equal("signature");
      expect(res.body.error.text).to.deep.equal({ textCode: "siwe_bad_signature", params: {} });
    });

    it("refuses a body that is not a SIWE message, naming the field", async function () {
      const res = await call(base, "POST", "/api/auth/verify", { body: { message: "hello", signature: "0x1234" } });
      expect(res.status).to.equal(400);
      expect(res.body.error.field).to.equal("message");
      const noSig = await call(base, "POST", "/api/auth/verify", { body: { message: "hello", signature: "nothex" } });
      expect(noSig.status).to.equal(400);
      expect(noSig.body.error.field).to.equal("signature");
    });

    it("signs in a contract wallet (ERC-1271) with its owner's signature, and refuses it when the wallet says no", async function () {
      const contractWallet = await hre.viem.deployContract("ERC1271Wallet", [net.outsider.account.address]);
      const res = await postSignIn(base, net.outsider, { address: contractWallet.address });
      expect(res.status).to.equal(200);
      expect(res.body.address).to.equal(contractWallet.address.toLowerCase());

      await contractWallet.write.setLie([true], { account: net.outsider.account });
      const refused = await postSignIn(base, net.outsider, { address: contractWallet.address });
      expect(refused.status).to.equal(401);
      expect(refused.body.error.field).to.equal("signature");
    });

    it("ends the session when the signed message's expiration time passes", async function () {
      const res = await postSignIn(base, net.buyer, { fields: { expirationTime: new Date(Date.now() + 2000) } });
      expect(res.status).to.equal(200);
      expect(res.body.expiresAt).to.be.at.most(Math.ceil(Date.now() / 1000) + 2);
      expect((await get("/api/auth/me", res.body.token)).status).to.equal(200);
      await new Promise((r) => setTimeout(r, (res.body.expiresAt + 1) * 1000 - Date.now()));
      expect((await get("/api/auth/me", res.body.token)).status).to.equal(401);
    });

    it("ends a session on logout", async function () {
      const token = await signIn(base, net.buyer);
      expect((await get("/api/auth/me", token)).status).to.equal(200);
      const out = await call(base, "POST", "/api/auth/logout", { token });
      expect(out.status).to.equal(200);
      expect((await get("/api/auth/me", token)).status).to.equal(401);
      expect((await call(base, "POST", "/api/auth/logout", { token })).status).to.equal(401);
    });

    it("answers 401 to a missing or unknown token", async function () {
      expect((await get("/api/auth/me")).status).to.equal(401);
      const res = await get("/api/auth/me", "A".repeat(43));
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal("unauthenticated");
    });
  });

  describe("enterprise data", function () {
    const kinds = ["metrics", "series", "orders", "receivables", "loans"] as const;

    it("lets an enterprise read all its own data, without writing the access log", async function () {
      for (const kind of kinds) {
        const res = await get(`/api/enterprises/${supplier}/${kind}`, tokens.supplier);
        expect(res.status, kind).to.equal(200);
        expect(res.body.enterprise).to.equal(supplier);
      }
      const log = await get(`/api/enterprises/${supplier}/access-log`, tokens.supplier);
      expect(log.body.items).to.deep.equal([]);
    });

    it("lists the enterprise's orders and receivables newest first with amounts as decimal strings", async function () {
      const orders = await get(`/api/enterprises/${supplier}/orders`, tokens.supplier);
      expect(orders.body.total).to.equal(2);
      expect(orders.body.items.map((o: { amount: string }) => o.amount)).to.deep.equal(["250000", "1000000"]);
      expect(orders.body.items[0]).to.include({ supplier, status: "Delivered" });
      const page = await get(`/api/enterprises/${supplier}/orders?limit=1&offset=1`, tokens.supplier);
      expect(page.body.items.map((o: { amount: string }) => o.amount)).to.deep.equal(["1000000"]);
      const receivables = await get(`/api/enterprises/${supplier}/receivables`, tokens.supplier);
      expect(receivables.body.items.map((r: { faceValue: string; status: string }) => [r.faceValue, r.status])).to.deep.equal([
        ["250000", "Confirmed"],
        ["1000000", "Confirmed"],
      ]);
    });

    it("serves the metrics computed from the index at the requested time", async function () {
      const asOf = await net.latestTime();
      const res = await get(`/api/enterprises/${supplier}/metrics?asOf=${asOf}`, tokens.supplier);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal(toJsonSafe(computeMetrics(service.indexer.state(), supplier, asOf)));
      expect(res.body.values.orderCount.all).to.equal(2);
      expect(res.body.values.orderValue.all).to.equal("1250000");
    });

    it("serves the monthly series for charts", async function () {
      const asOf = await net.latestTime();
      const res = await get(`/api/enterprises/${supplier}/series?months=3&asOf=${asOf}`, tokens.supplier);
      expect(res.status).to.equal(200);
      expect(res.body.months).to.deep.equal(toJsonSafe(monthlySeries(service.indexer.state(), supplier, asOf, 3)));
      expect(res.body.months).to.have.length(3);
      expect(res.body.months.reduce((n: number, m: { orderCount: number }) => n + m.orderCount, 0)).to.equal(2);
      const tooMany = await get(`/api/enterprises/${supplier}/series?months=61`, tokens.supplier);
      expect(tooMany.status).to.equal(400);
      expect(tooMany.body.error.field).to.equal("months");
    });

    it("refuses every read without a session", async function () {
      for (const kind of [...kinds, "access-log"]) {
        const res = await get(`/api/enterprises/${supplier}/${kind}`);
        expect(res.status, kind).to.equal(401);
        expect(res.body.error.code).to.equal("unauthenticated");
      }
    });

    it("refuses a malformed address, naming the field", async function () {
      const res = await get(`/api/enterprises/0x1234/metrics`, tokens.supplier);
      expect(res.status).to.equal(400);
      expect(res.body.error).to.include({ code: "invalid_input", field: "address" });
      const badQuery = await get(`/api/enterprises/${supplier}/orders?limit=0`, tokens.supplier);
      expect(badQuery.status).to.equal(400);
      expect(badQuery.body.error.field).to.equal("limit");
    });

    it("answers 404 for an address that is not a registered participant", async function () {
      const res = await get(`/api/enterprises/${net.outsider.account.address}/metrics`, tokens.operator);
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal("not_found");
    });

    it("refuses another enterprise's data to participants that are not lenders", async function () {
      for (const who of ["buyer", "auditor", "outsider"] as const) {
        const res = await get(`/api/enterprises/${supplier}/orders`, tokens[who]);
        expect(res.status, who).to.equal(403);
        expect(res.body.error.code).to.equal("forbidden");
      }
      const peer = await get(`/api/enterprises/${supplier2}/metrics`, tokens.supplier);
      expect(peer.status).to.equal(403);
    });

    it("refuses a lender the enterprise granted nothing", async function () {
      const res = await get(`/api/enterprises/${supplier2}/metrics`, tokens.lender);
      expect(res.status).to.equal(403);
      expect(res.body.error.message).to.match(/no consent was granted: scopes metrics/);
      expect(res.body.error.text).to.deep.equal({ textCode: "consent_none", params: { scopes: "metrics", enterprise: supplier2 } });
    });

    it("lets a lender read only the scopes granted, and logs each read with its consent and application", async function () {
      const expiresAt = await grant(SCOPE.metrics | SCOPE.orderHistory);
      const grantedAt = await net.latestTime();
      // A made-up application id is refused rather than written into the enterprise's log.
      const madeUp = await get(`/api/enterprises/${supplier}/metrics?application=app-7`, tokens.lender);
      expect(madeUp.status).to.equal(400);
      expect(madeUp.body.error.field).to.equal("application");
      const metrics = await get(`/api/enterprises/${supplier}/metrics`, tokens.lender);
      expect(metrics.status).to.equal(200);
      const orders = await get(`/api/enterprises/${supplier}/orders`, tokens.lender);
      expect(orders.status).to.equal(200);
      expect(orders.body.total).to.equal(2);
      const receivables = await get(`/api/enterprises/${supplier}/receivables`, tokens.lender);
      expect(receivables.status).to.equal(403);
      expect(receivables.body.error.message).to.match(/the consent does not cover it: scopes receivables/);
      const otherLender = await get(`/api/enterprises/${supplier}/metrics`, tokens.lender2);
      expect(otherLender.status).to.equal(403);

      const log = await get(`/api/enterprises/${supplier}/access-log`, tokens.supplier);
      expect(log.status).to.equal(200);
      expect(log.body.items).to.have.length(2);
      const [ordersRead, metricsRead] = log.body.items;
      expect(metricsRead).to.deep.include({
        enterprise: supplier,
        reader: lender,
        basis: "consent",
        scopes: ["metrics"],
        resource: "GET /api/enterprises/:address/metrics",
      });
      expect(metricsRead).to.not.have.property("applicationId");
      expect(metricsRead.consent).to.deep.include({ scopes: ["orderHistory", "metrics"], grantedAt, expiresAt });
      expect(metricsRead.requestId).to.match(/^[0-9a-f-]{36}$/);
      expect(ordersRead).to.deep.include({ scopes: ["orderHistory"], reader: lender });
      expect(ordersRead).to.not.have.property("applicationId");
      expect(Date.parse(ordersRead.at)).to.be.closeTo(Date.now(), 60_000);
    });

    it("lets only the enterprise read its access log", async function () {
      for (const who of ["lender", "operator", "buyer"] as const) {
        const res = await get(`/api/enterprises/${supplier}/access-log`, tokens[who]);
        expect(res.status, who).to.equal(403);
      }
    });

    it("stops a lender from the block that includes the enterprise's revocation", async function () {
      await grant(SCOPE.metrics, 30 * DAY, net.supplier2);
      expect((await get(`/api/enterprises/${supplier2}/metrics`, tokens.lender)).status).to.equal(200);
      await net.send(net.supplier2, "ConsentRegistry", "revoke", [net.lender.account.address]);
      // The service's consent state reaches that block within one poll interval (the index may lag behind it).
      await waitConsentsSeen(service, net.publicClient);
      const res = await get(`/api/enterprises/${supplier2}/metrics`, tokens.lender);
      expect(res.status).to.equal(403);
      expect(res.body.error.message).to.match(/the consent was revoked/);
      expect(res.body.error.text.textCode).to.equal("consent_revoked");
    });

    it("stops a lender once the consent has expired", async function () {
      const expiresAt = await grant(SCOPE.loans, 2 * DAY, net.supplier, net.lender2);
      expect((await get(`/api/enterprises/${supplier}/loans`, tokens.lender2)).status).to.equal(200);
      await time.increaseTo(expiresAt);
      await hre.network.provider.send("evm_mine", []);
      await waitConsentsSeen(service, net.publicClient);
      const res = await get(`/api/enterprises/${supplier}/loans`, tokens.lender2);
      expect(res.status).to.equal(403);
      expect(res.body.error.message).to.match(/the consent has expired/);
    });

    it("lets the operator read any enterprise's data and logs it as the operator's read", async function () {
      // The operator cites no application it cannot name either.
      expect((await get(`/api/enterprises/${supplier2}/receivables?application=audit-1`, tokens.operator)).status).to.equal(400);
      const res = await get(`/api/enterprises/${supplier2}/receivables`, tokens.operator);
      expect(res.status).to.equal(200);
      expect(res.body.items).to.have.length(1);
      const log = await get(`/api/enterprises/${supplier2}/access-log`, await signIn(base, net.supplier2));
      expect(log.body.items[0]).to.deep.include({
        reader: net.operator.account.address.toLowerCase(),
        basis: "operator",
        scopes: ["receivables"],
      });
    });
  });

  describe("lender portfolio export", function () {
    const csvOf = (body: string) =>
      body
        .trimEnd()
        .split("\r\n")
        .map((line) => line.split(","));

    it("exports the lender's loans with the collateral's status as CSV", async function () {
      const res = await get(`/api/lenders/${lender}/portfolio.csv`, tokens.lender);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.equal("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).to.include(`portfolio-loans-${lender}.csv`);
      const [header, ...rows] = csvOf(res.body);
      expect(rows).to.have.length(1);
      const row = Object.fromEntries(header.map((k, i) => [k, rows[0][i]]));
      expect(row).to.deep.include({
        loan_id: String(loan.loanId),
        borrower: supplier,
        status: "Active",
        principal: "6000.00",
        rate_bps: "800",
        repaid: "4000.00",
        collateral: String(loan.terms.collateral[0]),
        // Pledged to this live loan: the name the borrower sees too (not the receivable's own "Confirmed").
        collateral_status: `${loan.terms.collateral[0]}:Pledged`,
        document_sha256: loan.terms.documentHash,
        currency: "CNY",
      });
      // Exact major units from the bigint minor units.
      const minor = (major: string) => BigInt(major.replace(".", ""));
      expect(row.outstanding).to.match(/^\d+\.\d{2}$/);
      expect(minor(row.outstanding)).to.equal(minor(row.total_due) - 400_000n);
    });

    it("exports the repayments, direct and through the receivable waterfall", async function () {
      const res = await get(`/api/lenders/${lender}/portfolio.csv?kind=repayments`, tokens.lender);
      const [header, ...rows] = csvOf(res.body);
      expect(header.slice(0, 7)).to.deep.equal(["loan_id", "borrower", "at", "amount", "via_receivable", "tx_hash", "block_number"]);
      expect(header).to.include("currency");
      expect(rows.map((r) => [r[3], r[4]])).to.deep.equal([
        ["1000.00", ""],
        ["3000.00", String(loan.terms.collateral[0])],
      ]);
      const payments = await get(`/api/lenders/${lender}/portfolio.csv?kind=receivable-payments`, tokens.lender);
      const [, payment] = csvOf(payments.body);
      expect(payment.slice(0, 3)).to.deep.equal([
        String(loan.terms.collateral[0]),
        String(loan.loanId),
        net.buyer.account.address.toLowerCase(),
      ]);
      expect(payment.slice(4, 7)).to.deep.equal(["3000.00", "3000.00", "0.00"]);
      expect(payment[10]).to.equal("CNY");
    });

    it("lets only the lender itself (or the operator) export its portfolio", async function () {
      expect((await get(`/api/lenders/${lender}/portfolio.csv`)).status).to.equal(401);
      expect((await get(`/api/lenders/${lender}/portfolio.csv`, tokens.supplier)).status).to.equal(403);
      expect((await get(`/api/lenders/${lender}/portfolio.csv`, tokens.lender2)).status).to.equal(403);
      expect((await get(`/api/lenders/${lender}/portfolio.csv`, tokens.operator)).status).to.equal(200);
      const bad = await get(`/api/lenders/${lender}/portfolio.csv?kind=everything`, tokens.lender);
      expect(bad.status).to.equal(400);
      expect(bad.body.error.field).to.equal("kind");
    });
  });

  describe("limits", function () {
    it("refuses a body over the size limit with a JSON 413", async function () {
      const res = await call(base, "POST", "/api/auth/verify", { body: { message: "x".repeat(200_000), signature: "0x00" } });
      expect(res.status).to.equal(413);
      expect(res.body.error.code).to.equal("payload_too_large");
    });

    it("refuses a body that is not JSON with a 400 naming the body", async function () {
      const res = await call(base, "POST", "/api/auth/verify", { raw: "{not json" });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.include({ code: "invalid_json", field: "body" });
    });

    it("answers 429 with a JSON error once a client exceeds its rate", async function () {
      const limitedDir = await tempDataDir(net.deployment);
      const limited = await startTestService(testConfig(limitedDir, { RATE_LIMIT_PER_MINUTE: 5 }));
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) statuses.push((await call(limited.url, "GET", "/api/config")).status);
        expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
        const res = await call(limited.url, "GET", "/api/config");
        expect(res.body.error.code).to.equal("rate_limited");
        expect(res.headers.get("ratelimit-policy")).to.match(/q=5/);
        // Health checks are not rate limited.
        expect((await call(limited.url, "GET", "/healthz")).status).to.be.oneOf([200, 503]);
      } finally {
        await limited.close();
        await removeDir(limitedDir);
      }
    });
  });

  describe("health", function () {
    it("answers 503 on /healthz when the index lags the head by more than the allowed blocks", async function () {
      const laggingDir = await tempDataDir(net.deployment);
      const lagging = await startTestService(testConfig(laggingDir, { HEALTH_MAX_LAG_BLOCKS: 3 }));
      try {
        expect((await call(lagging.url, "GET", "/healthz")).status).to.equal(200);
        await lagging.indexer.stop();
        await hre.network.provider.send("hardhat_mine", ["0x4"]);
        await new Promise((r) => setTimeout(r, 300)); // past the head's 250 ms memo
        const res = await call(lagging.url, "GET", "/healthz");
        expect(res.status).to.equal(503);
        expect(res.body).to.deep.include({ status: "indexer lagging", lagBlocks: 4, maxLagBlocks: 3 });
      } finally {
        await lagging.close();
        await removeDir(laggingDir);
      }
    });
  });

  describe("restart", function () {
    it("keeps sessions and the access log across a restart of the service", async function () {
      const before = await get(`/api/enterprises/${supplier}/access-log`, tokens.supplier);
      await service.close();
      service = await startTestService(testConfig(dataDir));
      base = service.url;
      await indexed();
      const me = await get("/api/auth/me", tokens.lender);
      // The port changed, but the token is the same session.
      expect(me.status).to.equal(200);
      expect(me.body.address).to.equal(lender);
      const after = await get(`/api/enterprises/${supplier}/access-log`, tokens.supplier);
      expect(after.body.items).to.deep.equal(before.body.items);
    });
  });
});
