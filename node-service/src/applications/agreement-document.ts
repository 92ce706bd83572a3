/**
 * The loan agreement document both parties sign the hash of. Plain UTF-8 text, rendered
 * deterministically from the offer so anyone can re-render it and compare its sha256; the file is
 * what a court drops into the evidence page. The hashing rule lives in one place: `agreementDocumentSha256`.
 *
 * Version 2 (current) is one bilingual document, Simplified Chinese beside English, rather than a
 * language choice: the parties sign one hash, so both languages must be in the bytes they sign (two
 * renderings would be two documents with two hashes, only one of them signed). Amounts are in major
 * units with the currency (exact from the bigint) and the raw minor units; parties appear by their
 * verified registered name with the address; times in UTC and in Beijing time (UTC+8).
 * Version 1 (offers issued before names) is kept byte for byte so their signed hashes still match.
 */
import { sha256Hex } from "../domain/hash";
import { formatMoney } from "../domain/money";

export const AGREEMENT_DOCUMENT_VERSION = 2;

export interface AgreementDocumentInput {
  applicationId: string;
  chainId: number;
  loanAgreements: string;
  borrower: string;
  lender: string;
  currency: string;
  principal: bigint;
  rateBps: number;
  start: number;
  disburseBy: number;
  maturity: number;
  collateral: string[];
  decisionInputHash: string;
  policyVersion: string;
  /** 1 for offers issued before version 2 (absent = 1); new offers use AGREEMENT_DOCUMENT_VERSION. */
  version?: number;
  /** The parties' registered names, verified against the registry when the offer was issued (absent: address only). */
  borrowerName?: string;
  lenderName?: string;
}

/** The sha256 of the document's UTF-8 bytes: the `documentHash` of the signed LoanTerms. */
export function agreementDocumentSha256(a: AgreementDocumentInput): `0x${string}` {
  return sha256Hex(renderAgreementDocument(a));
}

/** The document for an offer, in the version it was issued with. */
export function renderAgreementDocument(a: AgreementDocumentInput): string {
  return (a.version ?? 1) >= 2 ? renderV2(a) : renderV1(a);
}

/** "2026-11-29 14:40:12 UTC / 北京时间 2026-11-29 22:40:12 (UTC+8)", exact from block seconds. */
function when(seconds: number): string {
  const utc = new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
  const beijing = new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 19).replace("T", " ");
  return `${utc} UTC / 北京时间 ${beijing} (UTC+8) [${seconds}]`;
}

/** Basis points as an exact percentage: 650 -> "6.50%". */
function percent(bps: number): string {
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, "0")}%`;
}

function party(name: string | undefined, address: string): string {
  return name ? `${name} (${address})` : `${address} (no verified registered name / 无经核验的登记名称)`;
}

function renderV2(a: AgreementDocumentInput): string {
  return [
    "供应链融资借款协议",
    "SUPPLY-CHAIN FINANCING LOAN AGREEMENT",
    "",
    "本协议以中文和英文书写，两种文本为同一协议，具有同等效力。",
    "This agreement is written in Chinese and English; both texts are one agreement and have equal effect.",
    "",
    `申请编号 / Application: ${a.applicationId}`,
    `链标识 / Chain id: ${a.chainId}; 借款协议合约 / LoanAgreements contract: ${a.loanAgreements}`,
    `借款人 / Borrower: ${party(a.borrowerName, a.borrower)}`,
    `贷款人 / Lender: ${party(a.lenderName, a.lender)}`,
    `币种 / Currency: CNY, 数字人民币结算代币 / digital-yuan settlement token, contract ${a.currency}`,
    `本金 / Principal: ${formatMoney(a.principal)} (${a.principal.toString()} 最小单位 / minor units)`,
    `利率 / Interest: 年利率 ${percent(a.rateBps)}（${a.rateBps} 个基点），单利，自起始日至到期日 / ${percent(a.rateBps)} per year (${a.rateBps} basis points), simple, from start to maturity`,
    `起始日 / Start: ${when(a.start)}`,
    `最迟放款时间 / Latest disbursement: ${when(a.disburseBy)}`,
    `到期日 / Maturity: ${when(a.maturity)}`,
    `质押应收账款（本协议上链记录时质押）/ Collateral receivables (pledged on chain when this agreement is recorded): ${a.collateral.map((id) => `#${id}`).join(", ")}`,
    "",
    "1. 贷款人通过借款协议合约发放本金，不晚于最迟放款时间，且仅在本协议记录后质押应收账款未获任何付款时发放；",
    "   否则任一方可取消本协议，质押的应收账款随即解除质押。",
    "   The lender disburses the principal through the LoanAgreements contract, no later than the latest",
    "   disbursement time and only while no collateral has been paid since the agreement was recorded;",
    "   otherwise either party may cancel and the collateral is released.",
    "2. 债务人对任一质押应收账款的付款优先偿还本借款，余额归应收账款持有人。",
    "   Payments by the debtor of any pledged receivable repay this loan first; the rest goes to its holder.",
    "3. 借款人可在到期日前随时部分或全部还款。",
    "   The borrower may repay in parts at any time before maturity.",
    "4. 到期日加合约宽限期届满后，贷款人可宣布违约。质押的应收账款仍为借款人所有并继续质押：其付款仍优先偿还",
    "   本借款，贷款人所得不超过本金加利息，债务清偿后余额及应收账款本身归还借款人。",
    "   After maturity plus the contract's grace period the lender may declare a default. The pledged",
    "   receivables stay pledged with the borrower: payments on them still repay this loan first, the",
    "   lender never receives more than principal plus interest, and the rest and the receivables",
    "   themselves go back to the borrower once the debt is paid.",
    "5. 双方以 EIP-712 签署载有本文件 sha256 的 LoanTerms 消息。",
    "   Both parties sign the EIP-712 LoanTerms message that carries the sha256 of this document.",
    "",
    `授信决策输入哈希 / Underwriting decision input hash: ${a.decisionInputHash} (policy ${a.policyVersion})`,
    `文件版本 / Document version: ${a.version ?? 1}`,
    "",
  ].join("\n");
}

/** Version 1, unchanged: English only, minor units, addresses. */
function renderV1(a: AgreementDocumentInput): string {
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return [
    "SUPPLY-CHAIN FINANCING LOAN AGREEMENT",
    "",
    `Application: ${a.applicationId}`,
    `Chain id: ${a.chainId}; LoanAgreements contract: ${a.loanAgreements}`,
    `Borrower: ${a.borrower}`,
    `Lender: ${a.lender}`,
    `Currency (settlement token contract): ${a.currency}`,
    `Principal (minor units of the settlement token): ${a.principal.toString()}`,
    `Interest: ${a.rateBps} basis points per year, simple, from start to maturity`,
    `Start: ${iso(a.start)} (${a.start})`,
    `Latest disbursement: ${iso(a.disburseBy)} (${a.disburseBy})`,
    `Maturity: ${iso(a.maturity)} (${a.maturity})`,
    `Collateral receivables (pledged on chain when this agreement is recorded): ${a.collateral.join(", ")}`,
    "",
    "1. The lender disburses the principal through the LoanAgreements contract, no later than the latest",
    "   disbursement time and only while no collateral has been paid since the agreement was recorded;",
    "   otherwise either party may cancel and the collateral is released.",
    "2. Payments by the debtor of any pledged receivable repay this loan first; the rest goes to its holder.",
    "3. The borrower may repay in parts at any time before maturity.",
    "4. After maturity plus the contract's grace period the lender may declare a default. The pledged",
    "   receivables stay pledged with the borrower: payments on them still repay this loan first, the",
    "   lender never receives more than principal plus interest, and the rest and the receivables",
    "   themselves go back to the borrower once the debt is paid.",
    "5. Both parties sign the EIP-712 LoanTerms message that carries the sha256 of this document.",
    "",
    `Underwriting decision input hash: ${a.decisionInputHash} (policy ${a.policyVersion})`,
    "",
  ].join("\n");
}
