/**
 * RFC 4180 CSV, the one writer for every CSV the service produces: a field is quoted when it holds a
 * separator, a quote or a line break; lines end with CRLF. Amounts go in as `Money` and come out in
 * major units (see money.ts), so a CSV with amounts also carries a currency column.
 *
 * Column names are stable English identifiers (what scripts read); with `lang: "zh"` the header row is
 * written in Simplified Chinese instead (same columns, same order) and the file starts with a UTF-8 byte
 * order mark, which spreadsheet programs need to read Chinese text as UTF-8. The cells are the same in
 * both languages.
 */
import { z } from "zod";
import { toMajor } from "./money";

/** An amount in minor units, written in major units. */
export class Money {
  constructor(readonly minor: bigint) {}
}

export type CsvCell = string | number | bigint | boolean | Money | null | undefined;

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
  if (lang === "en") return [...columns];
  return columns.map((c) => {
    const zh = CSV_HEADERS_ZH[c];
    if (zh === undefined) throw new Error(`CSV column ${JSON.stringify(c)} has no Chinese name (domain/csv.ts)`);
    return zh;
  });
}

export function csvField(value: CsvCell): string {
  const text = value === undefined || value === null ? "" : value instanceof Money ? toMajor(value.minor) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly CsvCell[][], lang: CsvLanguage = "en"): string {
  const body = [csvHeader(header, lang), ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
  return lang === "zh" ? `\ufeff${body}` : body;
}
