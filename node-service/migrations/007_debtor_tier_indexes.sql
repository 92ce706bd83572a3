-- A debtor's tier (the advance rate on a receivable it owes, underwriting/decide.ts debtorTier) reads
-- its purchase orders created in a window and its original invoices maturing in one
-- (store/postgres/index-reader.ts debtorCounts). These indexes find exactly those rows, so the read
-- does not walk the debtor's whole list of receivables (an anchor buyer's holds every split child of
-- every invoice it owes) nor hold its records in the service's memory.
CREATE INDEX index_orders_by_buyer ON index_records ((value ->> 'buyer'), ((value ->> 'createdAt')::bigint))
  WHERE coll = 'orders';
CREATE INDEX index_invoices_by_debtor ON index_records ((value ->> 'debtor'), ((value ->> 'maturity')::bigint))
  WHERE coll = 'receivables' AND (value ->> 'parentId') IS NULL;
