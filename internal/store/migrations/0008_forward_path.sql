-- 0008: urls.forward_path, spec.forwardPath: /{code}/rest/of/path redirects to the target with
-- the rest appended. Expand: a NOT NULL column with a constant default is added without a table
-- rewrite, and pods of the previous release, which neither write nor read it, keep working; the
-- links they write get false, which is what they serve.
ALTER TABLE urls ADD COLUMN IF NOT EXISTS forward_path boolean NOT NULL DEFAULT false;
