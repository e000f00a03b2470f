-- A ShortLink whose spec.domain changes releases the rows it held elsewhere; this finds them
-- without scanning urls. Additive (expand): older managers ignore it.
CREATE INDEX IF NOT EXISTS urls_owner_uid_idx ON urls (owner_uid) WHERE source = 'k8s' AND NOT deleted;
