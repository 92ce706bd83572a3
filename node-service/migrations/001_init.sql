-- The service's PostgreSQL schema (DATABASE_URL). Applied at start by store/postgres/db.ts, once, in
-- order of file name, each file in one transaction; applied files are listed in schema_migrations.
-- Amounts inside JSON documents are decimal strings (bigint in the service), as in the lowdb files.

-- The chain index: one row per keyed record and one row per list item, so a commit writes what changed.
CREATE TABLE index_meta (
  id            smallint PRIMARY KEY CHECK (id = 1),
  version       integer NOT NULL,
  identity      jsonb   NOT NULL,
  -- Last block whose events are all in the tables below (null: nothing indexed yet).
  checkpoint    jsonb,
  undo_floor    bigint  NOT NULL,
  event_count   bigint  NOT NULL
);

CREATE TABLE index_records (
  coll  text  NOT NULL,
  key   text  NOT NULL,
  value jsonb NOT NULL,
  PRIMARY KEY (coll, key)
);

CREATE TABLE index_lists (
  coll  text    NOT NULL,
  key   text    NOT NULL,
  seq   integer NOT NULL,
  value jsonb   NOT NULL,
  PRIMARY KEY (coll, key, seq)
);

-- Hashes of the recent blocks (to find the fork point of a reorg).
CREATE TABLE index_recent_blocks (
  block_number bigint PRIMARY KEY,
  block_hash   text   NOT NULL
);

-- Per block still inside the reorg window: the records' versions before the block and the list appends.
CREATE TABLE index_undo (
  block_number bigint PRIMARY KEY,
  undo         jsonb  NOT NULL
);

-- Keyed JSON records of the service (applications, timestamps): the last write of an id wins.
CREATE TABLE records (
  kind  text  NOT NULL,
  id    text  NOT NULL,
  value jsonb NOT NULL,
  PRIMARY KEY (kind, id)
);

-- Documents' index (the file bytes stay content-addressed under DATA_DIR/documents).
CREATE TABLE documents (
  sha256 text  PRIMARY KEY,
  record jsonb NOT NULL
);

CREATE TABLE document_pending (
  seq    bigserial PRIMARY KEY,
  sha256 text NOT NULL UNIQUE REFERENCES documents (sha256)
);

CREATE TABLE document_batches (
  root   text  PRIMARY KEY,
  record jsonb NOT NULL
);

CREATE TABLE document_purges (
  seq   bigserial PRIMARY KEY,
  entry jsonb NOT NULL
);

-- Sign-in sessions by HMAC of the token (never the token itself).
CREATE TABLE sessions (
  id         text    PRIMARY KEY,
  session    jsonb   NOT NULL,
  expires_at bigint  NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Settings shared by every service process on the database (the generated session secret).
CREATE TABLE settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- The access log: append-only, read per enterprise newest first.
CREATE TABLE access_log (
  seq        bigserial PRIMARY KEY,
  enterprise text  NOT NULL,
  entry      jsonb NOT NULL
);
CREATE INDEX access_log_enterprise ON access_log (enterprise, seq);
