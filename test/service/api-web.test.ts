/**
 * Issue 16, findings 9 and 12: how the service delivers the web UI. Against the real service (real
 * Hardhat network, real express server on port 0) serving a built UI from a temp directory: app routes
 * (/lender/portfolio) answer the app's page so a reload or a deep link works, while the API and missing
 * files still answer 404; the script and API answers are compressed (br or gzip, as asked) and smaller;
 * the live event stream is not (a compressor would hold events back); and a page learns on load
 * whether the browser's session cookie is live without provoking an error.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { RunningService } from "../../node-service/src/server";
import {
  call,
  deployNetwork,
  rawGet,
  removeDir,
  signIn,
  startTestService,
  tempDataDir,
  testConfig,
  waitIndexed,
  type Network,
} from "./api-helpers";

describe("the service delivers the web UI: app routes, compression, the session on load", function () {
  this.timeout(120_000);

  let net: Network;
  let service: RunningService;
  let dataDir: string;
  let base: string;
  /** A script like a real bundle: repetitive enough that compression must shrink it a lot. */
  const script = Buffer.from(
    Array.from({ length: 4000 }, (_, i) => `export function f${i}(a,b){return a+b*${i}+"compress me";}\n`).join(""),
    "utf8",
  );
  const indexHtml = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body></body></html>';

  before(async function () {
    net = await deployNetwork();
    dataDir = await tempDataDir(net.deployment);
    const webDir = path.join(dataDir, "web");
    await mkdir(path.join(webDir, "assets"), { recursive: true });
    await writeFile(path.join(webDir, "index.html"), indexHtml);
    await writeFile(path.join(webDir, "assets", "index-abc123.js"), script);
    service = await startTestService(testConfig(dataDir, { WEB_DIR: webDir }));
    base = service.url;
    await waitIndexed(service, net.publicClient);
  });

  after(async function () {
    await service?.close();
    if (dataDir) await removeDir(dataDir);
  });

  it("answers the app's page for its routes, so a reload or a deep link keeps the room and tab", async function () {
    for (const route of ["/", "/lender", "/lender/portfolio", "/manufacturer/apply", "/court"]) {
      const res = await rawGet(base, route, { accept: "text/html,application/xhtml+xml" });
      expect(res.status, route).to.equal(200);
      expect(String(res.headers["content-type"]), route).to.match(/^text\/html/);
      expect(res.body.toString(), route).to.equal(indexHtml);
      // The page itself is revalidated, so a new build is picked up at once.
      expect(res.headers["cache-control"], route).to.equal("no-cache");
    }
  });

  it("still answers 404 for unknown API routes, missing files and requests that do not want a page", async function () {
    const api = await call(base, "GET", "/api/no-such-route", { headers: { accept: "text/html" } });
    expect(api.status).to.equal(404);
    expect(api.body.error.code).to.equal("not_found");
    const missing = await rawGet(base, "/assets/missing-123.js", { accept: "text/html" });
    expect(missing.status).to.equal(404);
    expect(missing.body.toString()).to.not.include("<html");
    const json = await rawGet(base, "/lender/portfolio", { accept: "application/json" });
    expect(json.status).to.equal(404);
    const post = await call(base, "POST", "/lender/portfolio", { body: {}, headers: { accept: "text/html" } });
    expect(post.status).to.equal(404);
  });

  it("sends the script compressed (br or gzip, as the browser accepts) and much smaller, the same bytes once decompressed", async function () {
    const plain = await rawGet(base, "/assets/index-abc123.js", { "accept-encoding": "identity" });
    expect(plain.status).to.equal(200);
    expect(plain.headers["content-encoding"]).to.equal(undefined);
    expect(plain.body.equals(script)).to.equal(true);

    const br = await rawGet(base, "/assets/index-abc123.js", { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).to.equal("br");
    expect(br.headers.vary).to.match(/Accept-Encoding/i);
    expect(br.body.length).to.be.lessThan(plain.body.length / 5);
    expect(brotliDecompressSync(br.body).equals(script)).to.equal(true);

    const gz = await rawGet(base, "/assets/index-abc123.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).to.equal("gzip");
    expect(gz.body.length).to.be.lessThan(plain.body.length / 5);
    expect(gunzipSync(gz.body).equals(script)).to.equal(true);
    console.log(`      script: ${plain.body.length} bytes plain, ${gz.body.length} gzip, ${br.body.length} br`);
  });

  it("compresses API answers too", async function () {
    const plain = await rawGet(base, "/api/openapi.json", { "accept-encoding": "identity" });
    const gz = await rawGet(base, "/api/openapi.json", { "accept-encoding": "gzip" });
    expect(plain.status).to.equal(200);
    expect(gz.headers["content-encoding"]).to.equal("gzip");
    expect(gz.body.length).to.be.lessThan(plain.body.length / 3);
    expect(JSON.parse(gunzipSync(gz.body).toString())).to.deep.equal(JSON.parse(plain.body.toString()));
  });

  it("does not compress the live event stream, whose events must leave at once", async function () {
    const token = await signIn(base, net.supplier);
    const res = await rawGet(base, "/api/events", { authorization: `Bearer ${token}`, "accept-encoding": "gzip, br" }, 500);
    expect(res.status).to.equal(200);
    expect(res.headers["content-encoding"]).to.equal(undefined);
    // The first frame arrived in the half second, uncompressed.
    expect(res.body.toString()).to.include(": connected");
  });

  it("tells a page on load whether the browser's session is live: signed out is an answer (200), not an error", async function () {
    const none = await call(base, "GET", "/api/auth/session");
    expect(none.status).to.equal(200);
    expect(none.body).to.deep.equal({ signedIn: false });
    // A made-up or revoked cookie is no session either.
    const forged = await call(base, "GET", "/api/auth/session", { headers: { cookie: `scf_session=${"A".repeat(43)}` } });
    expect(forged.body).to.deep.equal({ signedIn: false });

    const token = await signIn(base, net.lender);
    const live = await call(base, "GET", "/api/auth/session", { headers: { cookie: `scf_session=${token}` } });
    expect(live.status).to.equal(200);
    const me = await call(base, "GET", "/api/auth/me", { token });
    expect(live.body).to.deep.equal({ signedIn: true, ...me.body });
    expect(live.body.roleNames).to.deep.equal(["LENDER"]);

    await call(base, "POST", "/api/auth/logout", { token });
    expect((await call(base, "GET", "/api/auth/session", { token })).body).to.deep.equal({ signedIn: false });
  });
});
