/**
 * Simplified Chinese and English in a real browser (Chromium from test/e2e/browser.ts driven by
 * playwright-core), against the real stack `npm start` runs. The language follows the browser's, the
 * switch in the top bar changes it at once and is remembered; in Chinese a supplier applies and signs,
 * the lender countersigns and disburses, and a court checks the agreement, and no English is left on any
 * page (names, numbers, addresses and codes aside; the service's own English texts are marked lang="en");
 * amounts are in major units with their currency, dates with the time zone. Any console error (a missing
 * translation is one) fails the test. Screenshots of the Chinese rooms go to test-results/.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { englishLeft as englishLeftOn } from "./cover-helpers";
import { LENDER, RESULTS, RING_SUPPLIER, SUPPLIER, useDemoBrowser } from "./nav-helpers";

/** An amount in English: CNY, then major units with separators and two decimals. */
const EN_AMOUNT = /CNY \d{1,3}(,\d{3})*\.\d{2}/;
/** The same amount in Chinese: the yuan sign, then major units. */
const ZH_AMOUNT = /¥\d{1,3}(,\d{3})*\.\d{2}/;

describe("the web UI in Simplified Chinese and English", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser();
  let names: string[] = [];
  let supplier: Page;
  let lender: Page;
  let applicationId: string;
  let loanId: string;

  before(async function () {
    const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { demoAccounts?: { name: string }[] };
    names = (config.demoAccounts ?? []).map((a) => a.name);
  });

  const open = (what: string, hash: string, locale: string, width = 1440) => demo.open(what, hash, { locale, width });

  async function signInZh(page: Page, account: { index: number; name: string }): Promise<void> {
    await page.getByLabel("演示账户（仅限开发链）").selectOption(String(account.index));
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.locator(".signin .who", { hasText: account.name }).waitFor();
  }

  /** English words left on the page (see englishLeft), the demo's participants' names aside. */
  const englishLeft = (page: Page, where: string) => englishLeftOn(page, where, names);

  it("follows the browser's language: Chinese for a zh-CN browser, English for en-US", async function () {
    const zh = await open("zh-CN browser", "#/manufacturer", "zh-CN");
    await zh.getByRole("heading", { name: "制造商", level: 1 }).waitFor();
    expect(await zh.evaluate(() => document.documentElement.lang)).to.equal("zh-CN");
    expect(await zh.getByLabel("语言").inputValue()).to.equal("zh");
    expect(await zh.title()).to.equal("供应链金融网络");

    const en = await open("en-US browser", "#/manufacturer", "en-US");
    await en.getByRole("heading", { name: "Manufacturer", level: 1 }).waitFor();
    expect(await en.evaluate(() => document.documentElement.lang)).to.equal("en-US");
    expect(await en.getByLabel("Language").inputValue()).to.equal("en");
    await zh.context().close();
    await en.context().close();
  });

  it("switches language from the top bar at once, and remembers the choice after a reload", async function () {
    const page = await open("switch", "#/court", "en-US");
    await page.getByRole("heading", { name: "Court / auditor", level: 1 }).waitFor();
    await page.getByLabel("Language").selectOption("zh");
    await page.getByRole("heading", { name: "法院 / 审计", level: 1 }).waitFor();
    expect(await page.getByRole("link", { name: "贷款机构" }).count()).to.equal(1);
    await page.reload();
    await page.getByRole("heading", { name: "法院 / 审计", level: 1 }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("scf.language"))).to.equal("zh");
    await page.getByLabel("语言").selectOption("en");
    await page.getByRole("heading", { name: "Court / auditor", level: 1 }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Court / auditor", level: 1 }).waitFor();
    await page.context().close();
  });

  it("in English, amounts are in major units with the currency code", async function () {
    const page = await open("english amounts", "#/manufacturer", "en-US");
    await page.getByLabel("Demo account (dev chain only)").selectOption(String(SUPPLIER.index));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("tab", { name: "Apply for financing" }).click();
    const max = page.locator("#amount-max");
    await max.waitFor();
    expect(await max.innerText()).to.match(EN_AMOUNT);
    // No raw minor units: no run of 7 or more digits without separators.
    expect(await page.locator("main").innerText()).not.to.match(/(?<![\d,.])\d{7,}(?![\d,])/);
    await page.context().close();
  });

  it("in Chinese, the supplier's pages have no English left, amounts in ¥ and major units; it applies and signs", async function () {
    supplier = await open("supplier (zh)", "#/manufacturer", "zh-CN");
    await supplier.getByText("第一次来？演示网络导览").waitFor();
    const left = await englishLeft(supplier, "manufacturer, signed out");
    await signInZh(supplier, SUPPLIER);

    const metrics = supplier.getByRole("region", { name: "我的指标（来自链上）" });
    await metrics.locator('tr[data-metric="orderCount"]').waitFor();
    expect(await supplier.locator(".kpi-value").first().innerText()).to.match(ZH_AMOUNT);
    left.push(...(await englishLeft(supplier, "overview")));
    await supplier.screenshot({ path: path.join(RESULTS, "zh-manufacturer-overview.png"), fullPage: true });

    for (const [tab, region] of [
      ["订单", "订单"],
      ["应收账款", "应收账款"],
    ]) {
      await supplier.getByRole("tab", { name: tab }).click();
      await supplier.getByRole("region", { name: region }).locator("tbody tr").first().waitFor();
      // Dates in Chinese ("2026年11月29日").
      expect(await supplier.getByRole("region", { name: region }).locator("tbody tr").first().innerText()).to.match(
        /\d{4}年\d{1,2}月\d{1,2}日/,
      );
      left.push(...(await englishLeft(supplier, tab)));
    }

    await supplier.getByRole("tab", { name: "申请融资" }).click();
    const form = supplier.getByRole("form", { name: "贷款申请" });
    await form.waitFor();
    expect(await supplier.locator("#amount-max").innerText()).to.match(ZH_AMOUNT);
    left.push(...(await englishLeft(supplier, "apply form")));
    await supplier.screenshot({ path: path.join(RESULTS, "zh-manufacturer-apply.png"), fullPage: true });
    await form.getByLabel("金额").fill("250,000.00");
    await form.getByLabel("期限").selectOption("90");
    await form.getByLabel("贷款机构").selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: "申请", exact: true }).click();
    const card = supplier.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    applicationId = (await card.getAttribute("data-application"))!;
    await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 60_000 });
    await card.locator(".badge", { hasText: "已发出要约" }).waitFor();
    // The heading names the amount in ¥ and the term in days; the offer's terms in the timeline too.
    expect(await card.locator("h3").first().innerText()).to.include("¥250,000.00，期限 90 天");
    expect(await card.locator(".timeline").innerText()).to.match(/¥[\d,]+\.\d{2}，年利率 [\d.]+%，期限 90 天/);
    // Times with their time zone.
    expect(await card.locator(".step-meta").first().innerText()).to.match(/\d{4}年\d{1,2}月\d{1,2}日 (UTC|GMT)/);
    left.push(...(await englishLeft(supplier, "application card")));
    await card.getByRole("button", { name: "签署要约" }).click();
    await card.locator('li[data-step="signed_by_borrower"].done').waitFor({ timeout: 30_000 });
    await supplier.screenshot({ path: path.join(RESULTS, "zh-manufacturer.png"), fullPage: true });
    expect(left).to.deep.equal([]);
  });

  it("in Chinese, the lender's pages have no English left; it countersigns and disburses", async function () {
    lender = await open("lender (zh)", "#/lender", "zh-CN");
    await signInZh(lender, LENDER);
    const queue = lender.getByRole("region", { name: "申请队列" });
    const row = queue.locator("tbody tr", { hasText: SUPPLIER.name }).first();
    await row.waitFor();
    const left = await englishLeft(lender, "queue");
    await row.getByRole("button", { name: `打开 ${SUPPLIER.name} 的申请` }).click();
    const detail = lender.locator(`section[data-application="${applicationId}"]`);
    await detail.getByRole("heading", { name: "理由" }).waitFor();
    await detail.locator('tr[data-metric="orderCount"]').waitFor();
    left.push(...(await englishLeft(lender, "application")));
    await detail.getByRole("button", { name: "会签" }).click();
    await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 30_000 });
    const disburse = detail.getByRole("button", { name: /^放款 / });
    expect(await disburse.innerText()).to.equal("放款 ¥250,000.00");
    await disburse.click();
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 30_000 });
    loanId = (await detail.getAttribute("data-loan-id"))!;
    left.push(...(await englishLeft(lender, "application, disbursed")));
    await lender.screenshot({ path: path.join(RESULTS, "zh-lender.png"), fullPage: true });

    await lender.getByRole("tab", { name: "贷款组合" }).click();
    const loanRow = lender
      .getByRole("region", { name: "贷款组合" })
      .locator("tbody tr", { hasText: `#${loanId}` })
      .first();
    await loanRow.waitFor();
    expect(await loanRow.innerText()).to.match(ZH_AMOUNT);
    left.push(...(await englishLeft(lender, "portfolio")));
    await lender.getByRole("tab", { name: "回测" }).click();
    await lender.getByRole("button", { name: "运行回测" }).waitFor();
    left.push(...(await englishLeft(lender, "back-test")));

    // The borrower's page followed live; its access log is in Chinese too.
    await supplier.locator(`article[data-application="${applicationId}"] li[data-step="disbursed"].done`).waitFor({ timeout: 30_000 });
    await supplier.getByRole("tab", { name: "访问记录" }).click();
    await supplier.getByRole("region", { name: "谁读取了我的数据" }).locator("tbody tr", { hasText: LENDER.name }).first().waitFor();
    left.push(...(await englishLeft(supplier, "access log")));
    expect(left).to.deep.equal([]);
  });

  it("in Chinese, the court room checks the agreement and says so in Chinese", async function () {
    const res = await supplier.request.get(`${demo.baseUrl}/api/applications/${applicationId}/agreement-document`);
    expect(res.status()).to.equal(200);
    const court = await open("court (zh)", "#/court", "zh-CN");
    await court.getByRole("heading", { name: "法院 / 审计", level: 1 }).waitFor();
    const left = await englishLeft(court, "court");
    await court
      .getByLabel(/将文件拖到此处/)
      .setInputFiles({ name: "loan-agreement.txt", mimeType: "text/plain", buffer: await res.body() });
    const verdict = court.locator('.verdict[data-verdict="anchored"]');
    await verdict.waitFor({ timeout: 30_000 });
    const text = await verdict.innerText();
    expect(text).to.include(`已签署的贷款协议 #${loanId}`);
    expect(text).to.include("由借款人和贷款机构（均为已注册参与方）签署");
    // The principal in ¥ and major units, not in minor units.
    expect(text).to.match(ZH_AMOUNT);
    await court.getByText("服务的答复与链上数据一致。").waitFor();
    left.push(...(await englishLeft(court, "court verdict")));
    await court.screenshot({ path: path.join(RESULTS, "zh-court-verdict.png"), fullPage: true });
    expect(left).to.deep.equal([]);
  });

  it("in Chinese, a declined application's reasons and what would change them are in Chinese, and in English after the switch", async function () {
    const page = await open("ring supplier (zh)", "#/manufacturer", "zh-CN");
    await signInZh(page, RING_SUPPLIER);
    await page.getByRole("tab", { name: "申请融资" }).click();
    const form = page.getByRole("form", { name: "贷款申请" });
    await form.waitFor();
    await form.getByLabel("金额").fill("100,000.00");
    await form.getByLabel("贷款机构").selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: "申请", exact: true }).click();
    const card = page.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    const id = (await card.getAttribute("data-application"))!;
    await card.locator(".badge", { hasText: "已拒绝" }).waitFor({ timeout: 30_000 });
    const why = card.getByRole("region", { name: "申请被拒绝的原因" });
    await why.waitFor();
    const words = await why.locator("ul.why").innerText();
    // The circular-trading rule and the score, written in Chinese from the service's codes.
    expect(words).to.include("订单经借款人形成循环（循环交易）");
    expect(words).to.match(/评分为 \d+（满分 100）/);
    const toChange = await why.locator("ul.to-change").innerText();
    expect(toChange).to.match(/评分至少达到 \d+ 分（还差 \d+ 分）/);
    // Nothing left in the service's English: no fallback marked lang="en" in the reasons.
    expect(await why.locator('ul.why [lang="en"], ul.to-change [lang="en"]').count()).to.equal(0);
    expect(`${words}\n${toChange}`).not.to.match(/0x[0-9a-f]{6}/i);
    expect(await englishLeft(page, "declined application")).to.deep.equal([]);
    await page.screenshot({ path: path.join(RESULTS, "zh-manufacturer-declined.png"), fullPage: true });

    // The lender's page: the risk flag's summary and the decision's reasons in Chinese too, amounts in ¥.
    await lender.getByRole("tab", { name: "申请", exact: true }).click();
    await lender.getByLabel("按状态筛选").selectOption("declined");
    const row = lender.getByRole("region", { name: "申请队列" }).locator("tbody tr", { hasText: RING_SUPPLIER.name }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: `打开 ${RING_SUPPLIER.name} 的申请` }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    await detail.locator("ul.flags li.flag").first().waitFor();
    expect(await detail.locator("ul.flags").innerText()).to.match(/\d+ 个参与方在 \d+ 天内形成交易循环，每一环至少 ¥[\d,]+\.\d{2}：/);
    expect(await detail.locator("table.reasons:not(.policy-indicators)").innerText())
      .to.include("订单经借款人形成循环（循环交易）（")
      .and.to.match(/评分 \d+ (达到批准阈值|低于拒绝阈值|介于拒绝阈值)/);
    expect(await detail.locator('ul.flags [lang="en"], table.reasons [lang="en"]').count()).to.equal(0);
    expect(await englishLeft(lender, "declined application (lender)")).to.deep.equal([]);
    await lender.screenshot({ path: path.join(RESULTS, "zh-lender-declined.png"), fullPage: true });
    await lender.getByLabel("按状态筛选").selectOption("");

    await page.getByLabel("语言").selectOption("en");
    const whyEn = card.getByRole("region", { name: "Why the application was declined" });
    await whyEn.waitFor();
    expect(await whyEn.locator("ul.why").innerText()).to.include("Orders run in a cycle through the borrower (circular trading)");
    expect(await whyEn.locator("ul.to-change").innerText()).to.match(/A score of at least \d+ \(\d+ points more\)/);
    await page.context().close();
  });
});
