/**
 * db.ts heartbeat: a connection of its own (LISTEN, the index writer's lock) is asked `SELECT 1` every
 * window and given up when no answer comes within one. A process busy with a long synchronous
 * computation (a back-test over a large enterprise) must not take its own stall for the database's
 * silence: that told every request the database was out of reach (503) and a writer to step down.
 */
import { expect } from "chai";
import { heartbeat, ownClient } from "../../node-service/src/store/postgres/db";
import { freshDatabase } from "../../scripts/lib/test-postgres";

describe("the heartbeat of a connection of its own (store/postgres/db.ts)", function () {
  this.timeout(60_000);

  it("does not give up a connection while this process's event loop is busy, and does when the connection is silent", async () => {
    const c = ownClient(await freshDatabase());
    await c.connect();
    // A question asked while the last one is unanswered would queue behind it (pg 9 refuses that): count them.
    const query = c.query.bind(c) as (text: string) => Promise<unknown>;
    let running = 0;
    let overlaps = 0;
    c.query = ((text: string) => {
      if (running > 0) overlaps += 1;
      running += 1;
      const out = query(text);
      const done = () => (running -= 1);
      out.then(done, done);
      return out;
    }) as typeof c.query;
    try {
      const lost: Error[] = [];
      let current = true;
      heartbeat(
        c,
        () => current,
        (err) => lost.push(err),
        400,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      // Synchronous work in spans, one straight after another (as an on-demand read runs its rounds): the
      // heartbeat's next question is sent between two, and its answer arrives during the next, unread
      // until it ends, when the timer that judges it fires first: spans of four windows (the timer fires
      // long after its time), then of 1.3 windows (it fires only a little late).
      for (const spanMs of [1_600, 1_600, 1_600, 520, 520, 520, 520, 520, 520]) {
        const until = performance.now() + spanMs;
        while (performance.now() < until);
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 1_000));
      expect(
        lost.map((e) => e.message),
        "lost while this process was busy",
      ).to.deep.equal([]);
      // The connection goes silent (its socket no longer read, as over a cut network path: answers wait
      // unread): given up within a few windows, having asked no second question meanwhile.
      const socket = (c as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
      socket.pause();
      const silentFrom = performance.now();
      while (lost.length === 0 && performance.now() - silentFrom < 2_500) await new Promise((r) => setTimeout(r, 50));
      expect(lost.map((e) => e.message)).to.deep.equal(["the connection did not answer within 400 ms"]);
      current = false;
      socket.resume();
      expect(overlaps, "questions asked while another was unanswered").to.equal(0);
    } finally {
      await c.end();
    }
  });
});
