-- The chain index's lists as segments: one row per run of items a commit appended to one list (a JSON
-- array), instead of one row per item. A commit of 50,000 events appends ~100,000 list items to a few
-- thousand lists; as segments that is a few thousand rows, so the commit writes a few thousand index
-- entries and row headers instead of ~100,000 (store/postgres/index-store.ts).
-- Segments of a list are contiguous and do not overlap: the items seq .. seq + n - 1 are in `items`.
CREATE TABLE index_list_segments (
  coll  text    NOT NULL,
  key   text    NOT NULL,
  seq   integer NOT NULL,
  n     integer NOT NULL CHECK (n > 0),
  items jsonb   NOT NULL,
  PRIMARY KEY (coll, key, seq)
);

-- An index written by 001 keeps its items: each item becomes a segment of one.
INSERT INTO index_list_segments (coll, key, seq, n, items)
  SELECT coll, key, seq, 1, jsonb_build_array(value) FROM index_lists;

DROP TABLE index_lists;
