/**
 * Where webhook deliveries may go (server-side request forgery): only to public unicast addresses. A
 * host that is, or resolves to, a private, loopback, link-local, CGNAT, multicast, unspecified, reserved
 * or IPv4-mapped/translated address is refused at registration and again at every delivery, where the
 * name is resolved, every answer checked, and the connection made to the checked address itself (DNS
 * may have changed since registration; a second lookup could answer differently). Redirects are never
 * followed. Loopback http (a gateway on the same machine, or a test) only behind WEBHOOK_ALLOW_LOOPBACK.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

export interface EgressOptions {
  /** Let deliveries go to loopback addresses (and over plain http there). Off in production. */
  allowLoopback: boolean;
}

/** Why an IP address is no place for a delivery, or null for a public unicast address. */
export function addressProblem(address: string, options: EgressOptions): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // process() turns an IPv4-mapped IPv6 address (::ffff:10.0.0.1) into the IPv4 address it carries.
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === "unicast") return null;
  if (range === "loopback" && options.allowLoopback) return null;
  return `${address} is a ${range} address, not a public one`;
}

function bareHost(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/** Checks a webhook URL without the network: syntax, scheme, credentials and a literal IP host. */
export function webhookUrlProblem(text: string, options: EgressOptions): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const host = bareHost(url);
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be https";
  if (ipaddr.isValid(host)) {
    const problem = addressProblem(host, options);
    if (problem) return `must point to a public address: ${problem}`;
  }
  if (url.protocol === "http:") {
    const loopbackName = host === "localhost" || (ipaddr.isValid(host) && ipaddr.process(host).range() === "loopback");
    if (!options.allowLoopback || !loopbackName) return "must be https";
  }
  return null;
}

/** Every address `host` resolves to, each checked; throws naming the first refused one. */
async function checkedAddresses(host: string, options: EgressOptions): Promise<{ address: string; family: number }[]> {
  const answers = ipaddr.isValid(host)
    ? [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }]
    : await dnsLookup(host, { all: true, verbatim: true });
  if (answers.length === 0) throw new Error(`${host} does not resolve`);
  for (const a of answers) {
    const problem = addressProblem(a.address, options);
    if (problem) throw new Error(`${host} resolves to ${a.address}: ${problem}`);
  }
  return answers;
}

/** The full check at registration: the URL, then every address its host resolves to now. */
export async function webhookTargetProblem(text: string, options: EgressOptions): Promise<string | null> {
  const problem = webhookUrlProblem(text, options);
  if (problem) return problem;
  try {
    await checkedAddresses(bareHost(new URL(text)), options);
    return null;
  } catch (err) {
    return `must point to a public address: ${(err as Error).message}`;
  }
}

/** A socket lookup that resolves, checks every answer, and hands the socket the checked address. */
function checkedLookup(options: EgressOptions): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    checkedAddresses(hostname, options).then(
      (answers) => {
        if (lookupOptions.all) (callback as unknown as (e: null, a: typeof answers) => void)(null, answers);
        else callback(null, answers[0].address, answers[0].family);
      },
      (err: Error) => callback(Object.assign(err, { code: "EREFUSED" }), "", 0),
    );
  };
}

/**
 * POSTs `body` to a webhook URL after checking it again (literal IP hosts here, names in the socket's
 * lookup, so the checked address is the one connected to). Answers the HTTP status; a redirect is a
 * status like any other, never followed.
 */
export async function postWebhook(
  text: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  options: EgressOptions,
): Promise<number> {
  const problem = webhookUrlProblem(text, options);
  if (problem) throw new Error(`refused: ${problem}`);
  const url = new URL(text);
  const client = url.protocol === "https:" ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body).toString() },
        lookup: checkedLookup(options),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on("error", () => undefined);
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}
