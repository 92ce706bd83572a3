/**
 * A real RFC 3161 time-stamping authority on loopback for tests: OpenSSL's `openssl ts -reply` behind
 * a tiny HTTP endpoint, with a test root CA and a TSA certificate (critical extended key usage
 * timeStamping) made here with `openssl req` / `openssl x509`. Nothing is mocked: the replies are
 * OpenSSL's.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LocalTsa {
  url: string;
  /** The test root CA's certificate (PEM): the trust anchor a court would be given. */
  caPem: string;
  caFile: string;
  /** How many requests it answered. */
  answered(): number;
  /** Refuse (HTTP 503) while true: an authority that is down. */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

export async function startLocalTsa(name = "Test Time-Stamping Authority"): Promise<LocalTsa> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "scf-tsa-"));
  const f = (n: string) => path.join(dir, n);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    "30",
    "-subj",
    "/CN=Test Root CA/O=Evidence Tests",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    f("tsa.key"),
    "-out",
    f("tsa.csr"),
    "-subj",
    `/CN=${name}/O=Evidence Tests`,
  ]);
  await writeFile(f("tsa.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    f("tsa.csr"),
    "-CA",
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-out",
    f("tsa.crt"),
    "-days",
    "30",
    "-extfile",
    f("tsa.ext"),
  ]);
  await writeFile(f("serial"), "01\n");
  await writeFile(
    f("tsa.cnf"),
    [
      "[ tsa ]",
      "default_tsa = tsa_config1",
      "[ tsa_config1 ]",
      `serial = ${f("serial")}`,
      "crypto_device = builtin",
      `signer_cert = ${f("tsa.crt")}`,
      `certs = ${f("ca.crt")}`,
      `signer_key = ${f("tsa.key")}`,
      "signer_digest = sha256",
      "default_policy = 1.3.6.1.4.1.99999.1",
      "digests = sha256",
      "accuracy = secs:1",
      "ordering = yes",
      "tsa_name = yes",
      "ess_cert_id_chain = no",
      "ess_cert_id_alg = sha256",
      "",
    ].join("\n"),
  );
  let count = 0;
  let down = false;
  let queue = Promise.resolve();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (down || req.method !== "POST") {
        res.writeHead(503).end();
        return;
      }
      // One at a time: openssl updates the serial file.
      queue = queue.then(async () => {
        const n = ++count;
        try {
          await writeFile(f(`q${n}.tsq`), Buffer.concat(chunks));
          await run("openssl", ["ts", "-reply", "-config", f("tsa.cnf"), "-queryfile", f(`q${n}.tsq`), "-out", f(`r${n}.tsr`)]);
          res.writeHead(200, { "content-type": "application/timestamp-reply" }).end(await readFile(f(`r${n}.tsr`)));
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    caPem: await readFile(f("ca.crt"), "utf8"),
    caFile: f("ca.crt"),
    answered: () => count,
    setDown: (d) => (down = d),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
