-- Sign-In with Ethereum nonces shared by every service process (auth/siwe.ts createPostgresNonceBook):
-- a nonce issued by one process signs in on any other, once (taken by DELETE ... RETURNING).
-- issued_ms: the issuing process's clock, milliseconds since the epoch; rows older than the nonce
-- lifetime (10 minutes) are deleted at the next issue.
CREATE TABLE siwe_nonces (
  nonce     text   PRIMARY KEY,
  client    text   NOT NULL,
  issued_ms bigint NOT NULL,
  seq       bigserial
);
CREATE INDEX siwe_nonces_client ON siwe_nonces (client, issued_ms);
CREATE INDEX siwe_nonces_issued ON siwe_nonces (issued_ms);
