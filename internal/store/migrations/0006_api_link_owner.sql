-- 0006: API links belong to the key that made them (urls.owner holds the key's name, as it holds
-- "namespace/name" for a declared link), and a key lists only its own. This index serves that
-- listing in code order without walking the domain's other links.
--
-- Expand: no column changes. Redirectors of the previous release keep creating API links with
-- owner '' during a rolling update; those, like every link made before this release, are
-- visible and changeable through admin keys only.
CREATE INDEX IF NOT EXISTS urls_api_owner_idx ON urls (domain, owner, code) WHERE source = 'api' AND NOT deleted;
