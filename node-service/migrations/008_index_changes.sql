-- What each commit of the chain index changed, by key ("coll/key": a collection's name holds no "/"),
-- so a reader process keeps an answer computed from an enterprise's records while no commit since has
-- touched any of them (metrics/enterprise-reads.ts), instead of reading them again after every commit.
-- commit_seq counts the commits; `whole` marks a whole rewrite (everything changed). The writer keeps the
-- last INDEX_CHANGES_KEPT commits (store/postgres/index-store.ts); a reader further behind reads again.
ALTER TABLE index_meta ADD COLUMN commit_seq bigint NOT NULL DEFAULT 0;
CREATE TABLE index_changes (
  seq     bigint  PRIMARY KEY,
  whole   boolean NOT NULL,
  changed text[]  NOT NULL
);
