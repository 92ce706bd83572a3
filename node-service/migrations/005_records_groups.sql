-- The applications of one borrower, found without reading every application: the creation guard
-- (applications/service.ts creationGuard, store/postgres/record-store.ts InsertGuard) reads them under a
-- lock on the borrower at each new application.
CREATE INDEX records_applications_borrower ON records ((value->>'borrower')) WHERE kind = 'applications';
