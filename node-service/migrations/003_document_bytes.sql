-- Documents' bytes in the database, beside their record, so every service process serves every upload
-- (they were content-addressed files under each process's DATA_DIR/documents). An upload writes its
-- bytes and its record in one transaction; a purge deletes both in one. Files an earlier version wrote
-- are copied in at start by the process whose DATA_DIR holds them (documents/postgres-store.ts).
CREATE TABLE document_bytes (
  sha256 text  PRIMARY KEY REFERENCES documents (sha256),
  bytes  bytea NOT NULL
);
