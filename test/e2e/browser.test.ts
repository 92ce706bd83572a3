/**
 * Which Chromium the browser tests launch (test/e2e/browser.ts): CHROMIUM_PATH, then an installed
 * /usr/bin/chromium, then the one shipped in the npm package @sparticuz/chromium. The last case is run
 * for real: the packaged binary is unpacked and renders a page, whatever is installed on the machine.
 */
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { chromium } from "playwright-core";
import { chromiumLaunch, SYSTEM_CHROMIUM } from "./browser";

describe("the browser the tests launch", function () {
  this.timeout(60_000);

  it("takes CHROMIUM_PATH first, even when a system Chromium is installed", async function () {
    const launch = await chromiumLaunch({ CHROMIUM_PATH: "/opt/chrome/chrome" }, () => true);
    expect(launch.source).to.equal("CHROMIUM_PATH");
    expect(launch.executablePath).to.equal("/opt/chrome/chrome");
  });

  it("refuses a CHROMIUM_PATH that names no file instead of falling back silently", async function () {
    let error: unknown;
    await chromiumLaunch({ CHROMIUM_PATH: "/nowhere/chromium" }, (file) => file === SYSTEM_CHROMIUM).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal("CHROMIUM_PATH=/nowhere/chromium: no such file");
  });

  it("takes the system's /usr/bin/chromium when CHROMIUM_PATH is unset", async function () {
    const launch = await chromiumLaunch({}, (file) => file === SYSTEM_CHROMIUM);
    expect(launch).to.include({ source: "system", executablePath: SYSTEM_CHROMIUM });
  });

  it("falls back to the Chromium of @sparticuz/chromium, which runs here with nothing installed by hand", async function () {
    const launch = await chromiumLaunch({}, () => false);
    expect(launch.source).to.equal("@sparticuz/chromium");
    expect(existsSync(launch.executablePath), launch.executablePath).to.equal(true);
    expect(launch.args).to.not.include("--single-process");
    expect(launch.args).to.not.include("--disable-web-security");
    expect(launch.args).to.not.include("--allow-running-insecure-content");
    const browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
    try {
      const page = await browser.newPage();
      await page.setContent("<main><h1>Packaged Chromium</h1></main>");
      expect(await page.getByRole("heading").textContent()).to.equal("Packaged Chromium");
      expect(browser.version()).to.match(/^\d+\./);
    } finally {
      await browser.close();
    }
  });

  it("keeps each browser context's cookies apart, as two users' browsers would", async function () {
    const server = http.createServer((req, res) => {
      const name = new URL(req.url!, "http://x").searchParams.get("as");
      if (req.method === "POST" && name) res.setHeader("set-cookie", `sid=${name}; Path=/; HttpOnly; SameSite=Strict`);
      res.end(req.headers.cookie ?? "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const launch = await chromiumLaunch({}, () => false);
    const browser = await chromium.launch({ executablePath: launch.executablePath, args: launch.args });
    try {
      const [alice, bob] = [await (await browser.newContext()).newPage(), await (await browser.newContext()).newPage()];
      for (const [page, name] of [
        [alice, "alice"],
        [bob, "bob"],
      ] as const) {
        await page.goto(base);
        await page.evaluate((url) => fetch(url, { method: "POST" }), `${base}/?as=${name}`);
      }
      expect(await alice.evaluate((url) => fetch(url).then((r) => r.text()), base)).to.equal("sid=alice");
      expect(await bob.evaluate((url) => fetch(url).then((r) => r.text()), base)).to.equal("sid=bob");
    } finally {
      await browser.close();
      server.close();
    }
  });
});
