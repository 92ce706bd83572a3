/**
 * A chain index in a fresh PostgreSQL database for the store tests: the database (scripts/lib/test-postgres.ts),
 * the index store over it, the state to change and the document to save, with an empty index (or what `seed`
 * puts in the state) saved once as a whole rewrite.
 */
import { emptyIndexState, type IndexState } from "../../node-service/src/domain/entities";
import { STORE_VERSION, type Checkpoint, type StoredIndex } from "../../node-service/src/store/index-store";
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { freshDatabase } from "./test-postgres";

/** The chain identity the test indexes are saved under. */
export const TEST_IDENTITY = {
  chainId: 31337,
  genesisHash: `0x${"1".repeat(64)}`,
  startBlock: 1,
  contracts: {},
} as unknown as StoredIndex["identity"];

export async function freshPostgresIndex(
  opts: { max?: number; checkpoint?: () => Checkpoint | null; seed?: (state: IndexState) => void } = {},
) {
  const db = await openDatabase(await freshDatabase(), { max: opts.max ?? 2 });
  const store = await createPostgresIndexStore(db);
  const state = emptyIndexState();
  opts.seed?.(state);
  const doc = (): StoredIndex => ({
    version: STORE_VERSION,
    identity: TEST_IDENTITY,
    checkpoint: opts.checkpoint?.() ?? null,
    recentBlocks: [],
    undoFloor: 0,
    undo: [],
    state,
  });
  await store.save(doc(), null);
  return { db, store, state, doc };
}
