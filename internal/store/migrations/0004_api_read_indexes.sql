-- 0004: indexes for the create API's reads. Additive (expand): older pods ignore them.

-- Listing by tag: tags @> ARRAY[tag].
CREATE INDEX IF NOT EXISTS urls_tags_idx ON urls USING gin (tags) WHERE NOT deleted;

-- A link's visit series reads one code's rows of a time range. Created on the partitioned table,
-- so every partition, present and future, gets it.
CREATE INDEX IF NOT EXISTS visit_logs_link_idx ON visit_logs (domain, code, visited_at);
