/**
 * RFC 3161 time-stamp tokens, with pkijs/asn1js: asking a time-stamping authority (TSA) for a token
 * over a 32-byte value (an anchored batch root or a recorded agreement's EIP-712 digest) and checking
 * a token: the message imprint, the CMS signature, the signer's certificate (time-stamping key usage,
 * and its chain to a trusted authority when one is given) and the time. No Node.js imports: the court
 * page checks tokens with this module too.
 *
 * What is stamped: the message imprint is SHA-256 over the 32 raw bytes of the value (not its hex).
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { hexToBytes, sha256, toHex, type Hex } from "viem";

const SHA256_OID = "2.16.840.1.101.3.4.2.1";
const TST_INFO_OID = "1.2.840.113549.1.9.16.1.4";
const EKU_OID = "2.5.29.37";
const TIME_STAMPING_OID = "1.3.6.1.5.5.7.3.8";

/** The SHA-256 message imprint for a 32-byte value. */
export function imprintOf(value: Hex): Uint8Array {
  return hexToBytes(sha256(hexToBytes(value)));
}

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

/** A DER TimeStampReq for `value`, asking for the TSA's certificate in the token. */
export function timestampRequest(value: Hex, nonce: bigint): Uint8Array {
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID, algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: buffer(imprintOf(value)) }),
    }),
    nonce: new asn1js.Integer({ valueHex: buffer(hexToBytes(toHex(nonce))) }),
    certReq: true,
  });
  return new Uint8Array(req.toSchema().toBER(false));
}

export class TimestampError extends Error {
  override name = "TimestampError";
}

/**
 * Asks the TSA at `url` for a token over `value`; returns the token (DER ContentInfo) once its
 * status is granted and it stamps this value with this request's nonce.
 */
export async function requestTimestamp(
  url: string,
  value: Hex,
  fetchImpl: typeof fetch = fetch,
): Promise<{ token: Uint8Array; genTime: Date }> {
  const nonce = BigInt(toHex(crypto.getRandomValues(new Uint8Array(8)))) | 1n;
  const res = await fetchImpl(url, {
    method: "POST",
    headers: { "content-type": "application/timestamp-query" },
    body: buffer(timestampRequest(value, nonce)),
  });
  if (!res.ok) throw new TimestampError(`the time-stamping authority at ${url} answered HTTP ${res.status}`);
  const asn1 = asn1js.fromBER(await res.arrayBuffer());
  if (asn1.offset === -1) throw new TimestampError(`the time-stamping authority at ${url} did not answer with a time-stamp response`);
  const resp = new pkijs.TimeStampResp({ schema: asn1.result });
  if (resp.status.status > 1 || !resp.timeStampToken) {
    throw new TimestampError(
      `the time-stamping authority at ${url} refused: status ${resp.status.status}${resp.status.statusStrings ? ` (${resp.status.statusStrings.map((s) => s.valueBlock.value).join("; ")})` : ""}`,
    );
  }
  const token = new Uint8Array(resp.timeStampToken.toSchema().toBER(false));
  const info = tstInfoOf(token);
  if (!sameBytes(new Uint8Array(info.messageImprint.hashedMessage.valueBlock.valueHexView), imprintOf(value)))
    throw new TimestampError("the token stamps another value");
  if (!info.nonce || BigInt(toHex(new Uint8Array(info.nonce.valueBlock.valueHexView))) !== nonce)
    throw new TimestampError("the token does not carry this request's nonce");
  return { token, genTime: info.genTime };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function signedDataOf(token: Uint8Array): pkijs.SignedData {
  const asn1 = asn1js.fromBER(buffer(token));
  if (asn1.offset === -1) throw new TimestampError("the token is not DER-encoded ASN.1");
  const info = new pkijs.ContentInfo({ schema: asn1.result });
  if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) throw new TimestampError("the token is not CMS SignedData");
  return new pkijs.SignedData({ schema: info.content });
}

function tstInfoOf(token: Uint8Array, signed = signedDataOf(token)): pkijs.TSTInfo {
  if (signed.encapContentInfo.eContentType !== TST_INFO_OID || !signed.encapContentInfo.eContent)
    throw new TimestampError("the token does not hold a TSTInfo");
  return new pkijs.TSTInfo({ schema: asn1js.fromBER(signed.encapContentInfo.eContent.getValue()).result });
}

/** A certificate's subject as "CN=…, O=…". */
function nameOf(cert: pkijs.Certificate): string {
  const short: Record<string, string> = { "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C" };
  return cert.subject.typesAndValues.map((tv) => `${short[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(", ");
}

/** Reads a certificate from PEM or DER bytes. */
export function parseCertificate(bytes: Uint8Array): pkijs.Certificate {
  const text = new TextDecoder().decode(bytes);
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  const der = pem ? Uint8Array.from(atob(pem[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0)) : bytes;
  const asn1 = asn1js.fromBER(buffer(der));
  if (asn1.offset === -1) throw new TimestampError("not a certificate (neither PEM nor DER)");
  return new pkijs.Certificate({ schema: asn1.result });
}

/** Codes of the check's steps and problems, beside their English (the court page writes them in its language). */
export const TOKEN_TEXT_CODES = [
  "token_unreadable",
  "token_imprint_algorithm",
  "token_imprint_other",
  "token_imprint_ok",
  "token_no_certificate",
  "token_not_tsa_certificate",
  "token_signed_by",
  "token_certificate_not_valid",
  "token_signature_invalid",
  "token_signature_ok",
  "token_chain_untrusted",
  "token_chain_ok",
  "token_chain_untrusted_because",
  "token_signature_unchecked",
] as const;

/** A step or problem as its code and string parameters. */
export interface TokenText {
  code: (typeof TOKEN_TEXT_CODES)[number];
  params: Record<string, string>;
}

export interface TokenCheck {
  /** Every step passed (imprint, signature, time-stamping certificate, and the chain when trust was given). */
  ok: boolean;
  genTime?: Date;
  tsa?: string;
  serial?: string;
  /** The signer's certificate chains to one of the trusted certificates given. */
  chainChecked: boolean;
  problems: string[];
  steps: string[];
  /** The problems and the steps as codes, in the same order. */
  problemTexts: TokenText[];
  stepTexts: TokenText[];
}

/**
 * Checks a token over `value`. With `trusted` certificates the signer's certificate must chain to one
 * of them; without, the signature is checked with the certificate inside the token and the report
 * says the authority's identity was not checked against a trusted root.
 */
export async function checkTimestampToken(token: Uint8Array, value: Hex, trusted: pkijs.Certificate[] = []): Promise<TokenCheck> {
  const problems: string[] = [];
  const steps: string[] = [];
  const problemTexts: TokenText[] = [];
  const stepTexts: TokenText[] = [];
  const problem = (code: TokenText["code"], params: Record<string, string>, en: string) => {
    problems.push(en);
    problemTexts.push({ code, params });
  };
  const step = (code: TokenText["code"], params: Record<string, string>, en: string) => {
    steps.push(en);
    stepTexts.push({ code, params });
  };
  let signed: pkijs.SignedData;
  let info: pkijs.TSTInfo;
  try {
    signed = signedDataOf(token);
    info = tstInfoOf(token, signed);
  } catch (err) {
    const message = (err as Error).message;
    problem("token_unreadable", { message }, `the token cannot be read: ${message}`);
    return { ok: false, chainChecked: false, problems, steps, problemTexts, stepTexts };
  }
  const serial = toHex(new Uint8Array(info.serialNumber.valueBlock.valueHexView));
  const imprint = new Uint8Array(info.messageImprint.hashedMessage.valueBlock.valueHexView);
  const algorithm = info.messageImprint.hashAlgorithm.algorithmId;
  if (algorithm !== SHA256_OID)
    problem("token_imprint_algorithm", { algorithm }, `the token's imprint uses hash ${algorithm}, not SHA-256`);
  else if (!sameBytes(imprint, imprintOf(value)))
    problem("token_imprint_other", { imprint: toHex(imprint), value }, `the token stamps ${toHex(imprint)}, not SHA-256 of ${value}`);
  else step("token_imprint_ok", {}, "message imprint is SHA-256 of the value");

  const signerCert = (signed.certificates ?? []).find((c): c is pkijs.Certificate => c instanceof pkijs.Certificate && isSigner(c, signed));
  let tsa: string | undefined;
  if (!signerCert) problem("token_no_certificate", {}, "the token does not include the authority's certificate");
  else {
    tsa = nameOf(signerCert);
    const eku = signerCert.extensions?.find((e) => e.extnID === EKU_OID);
    const usages = (eku?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
    if (!eku || !usages.includes(TIME_STAMPING_OID) || !eku.critical)
      problem(
        "token_not_tsa_certificate",
        { tsa },
        `the certificate of ${tsa} is not a time-stamping certificate (critical extended key usage timeStamping)`,
      );
    else step("token_signed_by", { tsa }, `signed by ${tsa}, a time-stamping certificate`);
    if (info.genTime < signerCert.notBefore.value || info.genTime > signerCert.notAfter.value)
      problem(
        "token_certificate_not_valid",
        { tsa, time: info.genTime.toISOString() },
        `the certificate of ${tsa} was not valid at ${info.genTime.toISOString()}`,
      );
  }
  let chainChecked = false;
  try {
    const result = await signed.verify({
      signer: 0,
      data: buffer(hexToBytes(value)),
      trustedCerts: trusted,
      checkChain: trusted.length > 0,
      checkDate: info.genTime,
      extendedMode: true,
    });
    if (!result.signatureVerified) problem("token_signature_invalid", {}, "the authority's signature over the token does not verify");
    else step("token_signature_ok", {}, "the CMS signature verifies");
    if (trusted.length) {
      chainChecked = result.signerCertificateVerified === true;
      if (!chainChecked)
        problem("token_chain_untrusted", {}, "the authority's certificate does not chain to the trusted certificate given");
      else step("token_chain_ok", {}, "the certificate chains to the trusted authority given");
    }
  } catch (err) {
    const e = err as { message?: string; signatureVerified?: boolean | null; signerCertificateVerified?: boolean | null };
    if (e.signatureVerified === false) problem("token_signature_invalid", {}, "the authority's signature over the token does not verify");
    else if (trusted.length && e.signerCertificateVerified === false)
      problem(
        "token_chain_untrusted_because",
        { message: e.message ?? "no path" },
        `the authority's certificate does not chain to the trusted certificate given (${e.message ?? "no path"})`,
      );
    else {
      const message = e.message ?? String(err);
      problem("token_signature_unchecked", { message }, `the token's signature cannot be checked: ${message}`);
    }
  }
  return { ok: problems.length === 0, genTime: info.genTime, tsa, serial, chainChecked, problems, steps, problemTexts, stepTexts };
}

function isSigner(cert: pkijs.Certificate, signed: pkijs.SignedData): boolean {
  const sid = signed.signerInfos[0]?.sid;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return sid.issuer.isEqual(cert.issuer) && sid.serialNumber.isEqual(cert.serialNumber);
  }
  return signed.signerInfos.length > 0 && (signed.certificates?.length ?? 0) === 1;
}

/** Token bytes <-> the base64 the bundle carries. */
export function tokenToBase64(token: Uint8Array): string {
  let s = "";
  for (const b of token) s += String.fromCharCode(b);
  return btoa(s);
}

export function tokenFromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
