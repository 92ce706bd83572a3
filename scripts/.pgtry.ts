import { freshDatabase } from "../test/service/pg-helpers";
import { openDatabase } from "../node-service/src/store/postgres/db";
(async () => {
  const t0 = Date.now();
  const url = await freshDatabase();
  console.log("url", url, Date.now() - t0);
  const db = await openDatabase(url);
  console.log((await db.pool.query("select version(), count(*) from schema_migrations")).rows);
  await db.close();
})().catch((e) => { console.error(e); process.exit(1); });
