/**
 * The one journal format (store/framed-journal.ts) and the stores on it, with real files: a torn tail
 * is cut, damage inside is quarantined without dropping any later record (or refused, for the chain
 * journal, naming the byte offset), and a full disk (a real tmpfs) is refused and recovered from.
 */
import { expect } from "chai";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { FramedJournal } from "../../node-service/src/store/framed-journal";
import { storageHealth } from "../../node-service/src/store/storage-health";
import { JournalStore } from "../../node-service/src/applications/journal-store";
import { openAccessLog } from "../../node-service/src/api/access-log";
import { ChainJournal } from "../../scripts/lib/chain-journal";
import { isMounted, mountSmallDisk } from "./small-disk";

interface Rec {
  id: string;
  n: number;
  note: string;
}

const ENTERPRISE = "0x00000000000000000000000000000000000000e1";
const READER = "0x00000000000000000000000000000000000000a1";

describe("framed journal", function () {
  this.timeout(60_000);
  let dir: string;
  let warnings: string[];
  const warn = (m: string) => void warnings.push(m);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "scf-journal-"));
    warnings = [];
    storageHealth.reset();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    storageHealth.reset();
  });

  async function fillStore(count: number): Promise<string> {
    const store = await JournalStore.open<Rec>(dir, "apps", { warn });
    for (let n = 0; n < count; n++) await store.put({ id: `a${n}`, n, note: `record ${n}` });
    await store.close();
    return path.join(dir, "apps.journal");
  }

  async function reopen(): Promise<Rec[]> {
    const store = await JournalStore.open<Rec>(dir, "apps", { warn });
    const all = store.all().sort((a, b) => a.n - b.n);
    await store.close();
    return all;
  }

  it("cuts a torn last record with a warning, and the next record is not glued to it", async () => {
    const file = await fillStore(3);
    appendFileSync(file, '120 0badc0de {"id":"a3","n":3,"no');
    const store = await JournalStore.open<Rec>(dir, "apps", { warn });
    expect(warnings.join()).to.match(/cut an incomplete last record at byte offset \d+/);
    await store.put({ id: "a4", n: 4, note: "after the tear" });
    await store.close();
    warnings = [];
    expect((await reopen()).map((r) => r.id)).to.deep.equal(["a0", "a1", "a2", "a4"]);
    expect(warnings).to.deep.equal([]);
  });

  it("quarantines a garbage line inside the journal and keeps every record after it", async () => {
    const file = await fillStore(40);
    const text = readFileSync(file, "utf8").split("\n");
    text.splice(10, 0, 'this line is garbage {"id":');
    writeFileSync(file, text.join("\n"));
    const all = await reopen();
    expect(all).to.have.length(40);
    expect(warnings.join()).to.match(/damaged at byte offset \d+/);
    expect(readFileSync(`${file}.quarantine`, "utf8")).to.include("this line is garbage");
    expect(storageHealth.incidents()[0].message).to.match(/damaged at byte offset \d+ \(no record header\)/);
    // The journal was rewritten without the damage: the next open is clean.
    warnings = [];
    expect(await reopen()).to.have.length(40);
    expect(warnings).to.deep.equal([]);
  });

  it("quarantines a record with one changed byte (checksum) and keeps the later ones", async () => {
    const file = await fillStore(30);
    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from("record 7"));
    bytes[at + 7] = "9".charCodeAt(0); // "record 9" under record 7's checksum
    writeFileSync(file, bytes);
    const all = await reopen();
    expect(all.map((r) => r.n)).to.deep.equal([...Array(30).keys()].filter((n) => n !== 7));
    expect(warnings.join()).to.match(/checksum/);
  });

  it("the chain journal refuses damage inside, naming the file and the byte offset", async () => {
    const file = path.join(dir, "chain", "journal.ndjson");
    const journal = await ChainJournal.create(file, {
      kind: "genesis",
      v: 1,
      initialDate: new Date().toISOString(),
      chainId: 31337,
      genesisHash: "0x01",
      wall: 1,
    });
    for (let i = 0; i < 3; i++) await journal.append({ m: "evm_mine", p: [], k: 1, n: i + 1, h: `0x0${i}`, w: 1 });
    await journal.close();
    const bytes = readFileSync(file);
    const second = bytes.indexOf(0x0a) + 1; // start of entry 1
    bytes[second + 20] ^= 0x01;
    writeFileSync(file, bytes);
    let message = "";
    await ChainJournal.open(file).catch((e: Error) => (message = e.message));
    expect(message).to.include(file);
    expect(message).to.include(`byte offset ${second}`);
    expect(message).to.include("npm start -- --fresh");
  });

  it("the access log keeps the entry after a torn line and pages from disk with a cursor", async () => {
    let log = await openAccessLog({ dataDir: dir, warn });
    for (let i = 0; i < 5; i++)
      await log.append({ reader: READER, enterprise: ENTERPRISE, basis: "consent", scopes: ["metrics"], resource: `GET /r/${i}` });
    await log.close();
    appendFileSync(path.join(dir, "access-log.jsonl"), '93 12345678 {"id":"torn');
    log = await openAccessLog({ dataDir: dir, warn });
    await log.append({ reader: READER, enterprise: ENTERPRISE, basis: "consent", scopes: ["metrics"], resource: "GET /r/5" });
    await log.close();
    log = await openAccessLog({ dataDir: dir, warn });
    const first = await log.page(ENTERPRISE, { limit: 4 });
    expect(first.total).to.equal(6);
    expect(first.items.map((e) => e.resource)).to.deep.equal(["GET /r/5", "GET /r/4", "GET /r/3", "GET /r/2"]);
    const second = await log.page(ENTERPRISE, { limit: 4, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.resource)).to.deep.equal(["GET /r/1", "GET /r/0"]);
    expect(second.nextCursor).to.equal(undefined);
    await log.close();
  });

  it("a full disk (real tmpfs) refuses the append, cuts the half-written record, and takes appends again once space is back", async function () {
    const disk = mountSmallDisk(256);
    if (!isMounted(disk)) {
      console.log(`      skipped: ${disk.skipped}`);
      this.skip();
    }
    try {
      const file = path.join(disk.dir, "j.journal");
      const journal = await FramedJournal.open(file, { onDamage: "refuse" }, () => undefined);
      await journal.append({ n: 1 });
      disk.fill();
      let code = "";
      await journal.append({ n: 2, pad: "x".repeat(20_000) }).catch((e: NodeJS.ErrnoException) => (code = e.code ?? ""));
      expect(code).to.equal("ENOSPC");
      expect(storageHealth.failures().map((f) => [f.file, f.code])).to.deep.equal([[file, "ENOSPC"]]);
      disk.free();
      await journal.append({ n: 3 });
      expect(storageHealth.failures()).to.deep.equal([]);
      await journal.close();
      const values: unknown[] = [];
      await (await FramedJournal.open(file, { onDamage: "refuse", warn }, ({ value }) => values.push(value))).close();
      expect(values).to.deep.equal([{ n: 1 }, { n: 3 }]);
      expect(warnings).to.deep.equal([]);
      expect(existsSync(`${file}.quarantine`)).to.equal(false);
    } finally {
      disk.unmount();
    }
  });
});
