-- What a kind's insert guard reads of each record (store/postgres/record-store.ts InsertGuard.reads),
-- kept beside the record: a new application's check reads its borrower's heads, a few hundred bytes
-- each, instead of each whole record (tens of kilobytes, decompressed from TOAST), whose cost grew with
-- the borrower's history. Written by every put of a guarded kind, from the value in the same statement;
-- filled at a guarded store's open where missing or not what the value gives (rows written before).
ALTER TABLE records ADD COLUMN head jsonb;
