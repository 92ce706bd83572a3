/**
 * RFC 4180 CSV, the one writer for every CSV the service produces: a field is quoted when it holds a
 * separator, a quote or a line break; lines end with CRLF. Amounts go in as `Money` and come out in
 * major units (see money.ts), so a CSV with amounts also carries a currency column.
 *
 * Column names are stable English identifiers (what scripts read); with `lang: "zh"` the header row is
 * written in Simplified Chinese instead (same columns, same order) and the file starts with a UTF-8 byte
 * order mark, which spreadsheet programs need to read Chinese text as UTF-8. Cells that are words of the
 * service (`Term`: statuses, yes/no, "all") are written in Chinese too; every other cell (ids, amounts,
 * times, addresses, names) is the same in both languages.
 */
import { z } from "zod";
import { toMajor } from "./money";

/** An amount in minor units, written in major units. */
export class Money {
  constructor(readonly minor: bigint) {}
}

/** A word of the service in a cell (a status, "all"): written in the CSV's language. */
export class Term {
  constructor(readonly word: string) {}
}

export type CsvCell = string | number | bigint | boolean | Money | Term | null | undefined;

export const CSV_LANGUAGES = ["en", "zh"] as const;
export type CsvLanguage = (typeof CSV_LANGUAGES)[number];

/** The `lang` query parameter of every CSV route: the header row's language, English by default. */
export const CsvLang = z
  .enum(CSV_LANGUAGES)
  .default("en")
  .describe("Language of the CSV header row: en (default) or zh (Simplified Chinese)");

/** Every column name the service writes, in Simplified Chinese. A column missing here is a bug (toCsv throws). */
export const CSV_HEADERS_ZH: Readonly<Record<string, string>> = {
  // loans, repayments, receivable payments
  loan_id: "贷款编号",
  borrower: "借款人地址",
  borrower_name: "借款人名称",
  status: "状态",
  principal: "本金",
  rate_bps: "年利率（基点）",
  start: "起息时间",
  maturity: "到期时间",
  total_due: "应还总额",
  repaid: "已还金额",
  outstanding: "未偿余额",
  disbursed_at: "放款时间",
  closed_at: "结清时间",
  defaulted_at: "违约时间",
  collateral: "质押应收账款",
  collateral_status: "质押物状态",
  agreement_digest: "协议摘要（EIP-712）",
  document_sha256: "协议文件 SHA-256",
  days_past_due: "逾期天数",
  currency: "币种",
  at: "时间",
  amount: "金额",
  via_receivable: "经由应收账款",
  tx_hash: "交易哈希",
  block_number: "区块高度",
  after_default: "违约后",
  debtor: "债务人地址",
  debtor_name: "债务人名称",
  receivable_id: "应收账款编号",
  to_loan: "归还贷款",
  to_holder: "付给持有人",
  holder: "持有人地址",
  // exposure, maturities, overdue
  live_loans: "在贷笔数",
  share: "占比",
  collateral_unpaid: "未付质押应收账款",
  in_days: "剩余天数",
  defaultable_at: "可宣告违约时间",
  // back-test
  policy: "授信策略",
  in_force: "现行策略",
  band: "评分区间",
  cases: "案例数",
  approved: "批准数",
  approval_rate: "批准率",
  approved_amount: "批准金额",
  on_time: "按时还款",
  late: "逾期还款",
  defaulted: "违约",
  open: "未到期",
  defaulted_amount: "违约金额",
  bad_debt_rate: "坏账率",
};

/** The header row in `lang`: the column names themselves in English, their Chinese names in Chinese. */
export function csvHeader(columns: readonly string[], lang: CsvLanguage = "en"): string[] {
  return columns.map((c) => inLanguage(CSV_HEADERS_ZH, c, lang, "column"));
}

/** Every word a `Term` cell (or a yes/no cell) may hold, in Simplified Chinese. A word missing here is a bug (toCsv throws). */
export const CSV_TERMS_ZH: Readonly<Record<string, string>> = {
  // loans (LoanAgreements' statuses)
  Signed: "已签署",
  Active: "还款中",
  Repaid: "已还清",
  Defaulted: "已违约",
  Recovered: "已收回",
  Cancelled: "已取消",
  // receivables (Receivables' statuses, and "Pledged": confirmed and securing a loan)
  Issued: "已开具",
  Confirmed: "已确认",
  Paid: "已付清",
  Split: "已拆分",
  Pledged: "已质押",
  // yes / no, the back-test's total line, a debtor row without unpaid collateral, an unmatched name
  true: "是",
  false: "否",
  all: "合计",
  "no unpaid collateral": "无未付质押应收账款",
  "claim, not matched": "声明，未匹配",
};

/** A service word in `lang` (English: the word itself). */
export function termText(word: string, lang: CsvLanguage): string {
  return inLanguage(CSV_TERMS_ZH, word, lang, "cell word");
}

/** `word` itself in English; its Chinese from `zh` otherwise, where a missing entry is a bug. */
function inLanguage(zh: Readonly<Record<string, string>>, word: string, lang: CsvLanguage, what: string): string {
  if (lang === "en") return word;
  const text = zh[word];
  if (text === undefined) throw new Error(`CSV ${what} ${JSON.stringify(word)} has no Chinese text (domain/csv.ts)`);
  return text;
}

export function csvField(value: CsvCell, lang: CsvLanguage = "en"): string {
  const text =
    value === undefined || value === null
      ? ""
      : value instanceof Money
        ? toMajor(value.minor)
        : value instanceof Term
          ? termText(value.word, lang)
          : typeof value === "boolean"
            ? termText(String(value), lang)
            : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly CsvCell[][], lang: CsvLanguage = "en"): string {
  const body = [csvHeader(header, lang), ...rows].map((r) => r.map((cell) => csvField(cell, lang)).join(",")).join("\r\n") + "\r\n";
  return lang === "zh" ? `\ufeff${body}` : body;
}
