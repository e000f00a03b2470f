-- 0007: the change feed in commit order. Additive (expand): older pods keep polling by version.
--
-- A version is drawn before its transaction commits, so versions are not commit order: a
-- 1,000-link batch that commits before an older, slower writer pushes that writer's version far
-- behind what a poller has seen. Every row written from now on also records the transaction
-- that wrote it; a poller reads by it and moves its cursor only up to the oldest transaction
-- still running (pg_snapshot_xmin), below which nothing can commit any more (store.Feed).
ALTER TABLE urls ADD COLUMN IF NOT EXISTS txid bigint NULL;

-- A trigger rather than each writer's SQL: every statement that gives a row a new version
-- (upserts, patches, tombstones, batches, and writers yet to come) stamps it the same way.
-- Writes that keep the version (a re-stamp of install_id) are not changes to the feed.
CREATE OR REPLACE FUNCTION urls_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS urls_stamp_txid_insert ON urls;
CREATE TRIGGER urls_stamp_txid_insert BEFORE INSERT ON urls
    FOR EACH ROW EXECUTE FUNCTION urls_stamp_txid();
DROP TRIGGER IF EXISTS urls_stamp_txid_update ON urls;
CREATE TRIGGER urls_stamp_txid_update BEFORE UPDATE ON urls
    FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION urls_stamp_txid();

-- The feed reads (txid, version) > cursor. Rows written before this migration have no txid
-- and are never read by it: a poller starts at the present. Empty when created, so no lock
-- is held for long.
CREATE INDEX IF NOT EXISTS urls_txid_idx ON urls (txid, version) WHERE txid IS NOT NULL;
