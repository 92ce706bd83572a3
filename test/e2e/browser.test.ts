/**
 * Which Chromium the browser tests launch (test/e2e/browser.ts): CHROMIUM_PATH, then an installed
 * /usr/bin/chromium, then the one shipped in the npm package @sparticuz/chromium. The last case is run
 * for real: the packaged binary is unpacked and renders a page, whatever is installed on the machine.
 */
import { existsSync } from "node:fs";
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
});
