-- 0011: urls.max_visits, spec.maxVisits: after that many people's visits the link answers as an
-- expired one. 0 is no limit. Expand: a NOT NULL column with a constant default is added without
-- a table rewrite, and pods of the previous release, which neither write nor read it, keep
-- working; the links they write get 0, no limit, which is what they serve.
ALTER TABLE urls ADD COLUMN IF NOT EXISTS max_visits bigint NOT NULL DEFAULT 0;
