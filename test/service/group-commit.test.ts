/**
 * GroupCommit (store/group-commit.ts), the write queue under the file journal and the PostgreSQL access
 * log: who shares a write, what a refused item or a failed write rejects, and what settled() waits for.
 */
import { expect } from "chai";
import { GroupCommit, Refused } from "../../node-service/src/store/group-commit";

/** A write that records each group it is given and ends when the test says so. */
function gatedWriter() {
  const groups: number[][] = [];
  const gates: (() => void)[] = [];
  const write = async (items: number[]) => {
    groups.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((i) => (i < 0 ? new Refused(new Error(`refused ${i}`)) : i * 10));
  };
  const openNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { groups, write, openNext };
}

describe("group commit", () => {
  it("sends the items added while a write runs together in the next write, in order, and answers each its own result", async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, number>(w.write);
    const first = gc.add(1);
    const waiting = [gc.add(2), gc.add(3), gc.add(4)];
    await w.openNext();
    expect(await first).to.equal(10);
    await w.openNext();
    expect(await Promise.all(waiting)).to.deep.equal([20, 30, 40]);
    expect(w.groups).to.deep.equal([[1], [2, 3, 4]]);
    await gc.settled();
  });

  it("rejects only the item a write refused, every item of a write that threw, and goes on with the next write", async () => {
    let fail = true;
    const groups: number[][] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      groups.push(items);
      if (items.includes(99) && fail) {
        fail = false;
        throw new Error("disk gone");
      }
      return items.map((i) => (i < 0 ? new Refused(new Error(`refused ${i}`)) : i));
    });
    const a = gc.add(99);
    const b = [gc.add(5), gc.add(-1), gc.add(6)];
    const [ra, ...rb] = await Promise.allSettled([a, ...b]);
    expect(ra).to.deep.include({ status: "rejected" });
    expect((ra as PromiseRejectedResult).reason.message).to.equal("disk gone");
    expect(rb.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    expect((rb[1] as PromiseRejectedResult).reason.message).to.equal("refused -1");
    expect(groups).to.deep.equal([[99], [5, -1, 6]]);
    expect(await gc.add(99)).to.equal(99);
  });

  it("rejects a write's items when it answers another number of results than items", async () => {
    const gc = new GroupCommit<number, number>(async () => [1]);
    gc.add(1).catch(() => undefined);
    const r = await Promise.allSettled([gc.add(2), gc.add(3)]);
    expect(r.map((x) => x.status)).to.deep.equal(["rejected", "rejected"]);
    expect(String((r[0] as PromiseRejectedResult).reason)).to.match(/1 results for 2 items/);
  });

  it("settled() waits for the writes of every item added before it, and those added while it waits", async () => {
    const w = gatedWriter();
    const gc = new GroupCommit<number, number>(w.write);
    const done: number[] = [];
    void gc.add(1).then((r) => done.push(r));
    void gc.add(2).then((r) => done.push(r));
    const settled = gc.settled().then(() => [...done]);
    await w.openNext();
    await w.openNext();
    expect(await settled).to.deep.equal([10, 20]);
  });
});
