/** The service's configuration: defaults, fail-fast validation, and .env.example kept complete. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { CONFIG_SCHEMA, ConfigError, loadConfig } from "../../node-service/src/config";
import { CONTRACT_NAMES, REPO_ROOT } from "../../node-service/src/chain/contracts";
import { feeFields, feeFieldsFromEnv } from "../../node-service/src/chain/fees";
import { startService } from "../../node-service/src/server";

describe("service configuration", function () {
  it("gives every key a default that listens on loopback against the local chain", function () {
    const config = loadConfig({});
    expect(config).to.deep.include({
      PORT: 3000,
      HOST: "127.0.0.1",
      RPC_URL: "http://127.0.0.1:8545",
      CHAIN_ID: 31337,
      CONFIRMATIONS: 0,
      DEV_ACCOUNTS: false,
      BODY_LIMIT: "100kb",
    });
    expect(config.SESSION_SECRET).to.equal(undefined);
  });

  it("parses numbers and flags from their text and treats empty values as unset", function () {
    const config = loadConfig({ PORT: "0", CONFIRMATIONS: "12", DEV_ACCOUNTS: "true", TRUST_PROXY: "0", PUBLIC_RPC_URL: "" });
    expect(config).to.deep.include({ PORT: 0, CONFIRMATIONS: 12, DEV_ACCOUNTS: true, TRUST_PROXY: false });
    expect(config.PUBLIC_RPC_URL).to.equal(undefined);
  });

  it("reads fees as a legacy gas price or as EIP-1559 caps, zero included, into the fields every transaction carries", function () {
    expect(feeFields(loadConfig({}))).to.deep.equal({});
    expect(feeFields(loadConfig({ GAS_PRICE: "1000000000" }))).to.deep.equal({ type: "legacy", gasPrice: 1_000_000_000n });
    expect(feeFields(loadConfig({ MAX_FEE_PER_GAS: "0", MAX_PRIORITY_FEE_PER_GAS: "0" }))).to.deep.equal({
      type: "eip1559",
      maxFeePerGas: 0n,
      maxPriorityFeePerGas: 0n,
    });
    // The scripts read the same keys the same way.
    expect(feeFieldsFromEnv({ MAX_FEE_PER_GAS: "0", MAX_PRIORITY_FEE_PER_GAS: "0" })).to.deep.equal({
      type: "eip1559",
      maxFeePerGas: 0n,
      maxPriorityFeePerGas: 0n,
    });
  });

  it("refuses fee settings that contradict each other, naming the key", function () {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).issues;
      }
      throw new Error(`accepted ${JSON.stringify(env)}`);
    };
    expect(refused({ GAS_PRICE: "1", MAX_FEE_PER_GAS: "0", MAX_PRIORITY_FEE_PER_GAS: "0" })).to.deep.equal([
      "GAS_PRICE: set either GAS_PRICE (legacy) or the EIP-1559 caps, not both",
    ]);
    expect(refused({ MAX_FEE_PER_GAS: "0" })).to.deep.equal([
      "MAX_PRIORITY_FEE_PER_GAS: set it together with MAX_FEE_PER_GAS (0 on a free-gas chain)",
    ]);
    expect(refused({ MAX_FEE_PER_GAS: "1", MAX_PRIORITY_FEE_PER_GAS: "2" })).to.deep.equal([
      "MAX_PRIORITY_FEE_PER_GAS: must not exceed MAX_FEE_PER_GAS",
    ]);
    expect(refused({ GAS_PRICE: "1.5" })).to.deep.equal(["GAS_PRICE: must be a whole number of wei, in decimal"]);
    expect(() => feeFieldsFromEnv({ MAX_PRIORITY_FEE_PER_GAS: "0" })).to.throw(
      "MAX_FEE_PER_GAS: set it together with MAX_PRIORITY_FEE_PER_GAS",
    );
  });

  it("takes a block explorer URL template only as an http(s) URL with {hash} in it", function () {
    expect(loadConfig({}).EXPLORER_TX_URL).to.equal(undefined);
    expect(loadConfig({ EXPLORER_TX_URL: "https://explorer.example/tx/{hash}" }).EXPLORER_TX_URL).to.equal(
      "https://explorer.example/tx/{hash}",
    );
    for (const bad of [
      "https://explorer.example/tx/",
      "javascript:alert({hash})",
      "explorer.example/tx/{hash}",
      "https://x/{hash} {hash}",
    ]) {
      let caught: unknown;
      try {
        loadConfig({ EXPLORER_TX_URL: bad });
      } catch (err) {
        caught = err;
      }
      expect(caught, bad).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).issues.join(), bad).to.match(/^EXPLORER_TX_URL/);
    }
  });

  it("fails fast, naming every bad key", function () {
    let caught: unknown;
    try {
      loadConfig({ PORT: "eighty", RPC_URL: "not a url", SESSION_SECRET: "short", DEV_ACCOUNTS: "maybe", METRICS_TOKEN: "guessable" });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const issues = (caught as ConfigError).issues.map((i) => i.split(":")[0]);
    expect(issues).to.have.members(["PORT", "RPC_URL", "SESSION_SECRET", "DEV_ACCOUNTS", "METRICS_TOKEN"]);
    expect((caught as ConfigError).message).to.match(/SESSION_SECRET: must be at least 32 characters/);
    expect((caught as ConfigError).message).to.match(/METRICS_TOKEN: must be at least 32 characters/);
  });

  it("documents every key in the schema and in .env.example", function () {
    const example = readFileSync(path.join(REPO_ROOT, ".env.example"), "utf8");
    const listed = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    const keys = Object.keys(CONFIG_SCHEMA.shape);
    expect(listed).to.have.members(keys);
    for (const [key, schema] of Object.entries(CONFIG_SCHEMA.shape)) {
      expect(schema.description, key).to.be.a("string").and.not.equal("");
    }
  });

  it("stops the service at start with the bad key named when run directly", function () {
    this.timeout(60_000);
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "node-service/src/server.ts"], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 50_000,
      });
    const badPort = run({ PORT: "eighty" });
    expect(badPort.status).to.equal(1);
    expect(badPort.stderr).to.match(/invalid configuration:\n\s+PORT: /);
    const noDeployment = run({ DEPLOYMENT_FILE: "/nonexistent/deployment.json" });
    expect(noDeployment.status).to.equal(1);
    expect(noDeployment.stderr).to.include("DEPLOYMENT_FILE: /nonexistent/deployment.json cannot be read");
  });

  it("refuses to start when the node at RPC_URL does not answer, naming RPC_URL", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "scf-config-"));
    try {
      const deployment = {
        chainId: 31337,
        genesisHash: `0x${"11".repeat(32)}`,
        startBlock: 1,
        deployer: `0x${"22".repeat(20)}`,
        gracePeriod: 0,
        contracts: Object.fromEntries(CONTRACT_NAMES.map((n, i) => [n, `0x${String(i + 1).padStart(40, "0")}`])),
      };
      await writeFile(path.join(dir, "deployment.json"), JSON.stringify(deployment));
      // A port that was free a moment ago: nothing listens there.
      const port = await new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, "127.0.0.1", () => {
          const p = (srv.address() as net.AddressInfo).port;
          srv.close(() => resolve(p));
        });
      });
      const config = loadConfig(
        {},
        {
          DATA_DIR: dir,
          DEPLOYMENT_FILE: path.join(dir, "deployment.json"),
          RPC_URL: `http://127.0.0.1:${port}`,
          LOG_LEVEL: "silent",
          PORT: 0,
        },
      );
      let caught: unknown;
      await startService(config).catch((err: unknown) => (caught = err));
      expect(caught).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).message).to.include(`RPC_URL: http://127.0.0.1:${port} does not answer`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
