-- 0010: the hosts that ShortLinkDomain objects declare, with their redirects and robots.txt.
-- The manager writes one row per governed host; the redirectors read the table on every poll of
-- the change feed. Add-only: pods of the previous release never touch it. (0009 is left to the
-- bot-visits migration being written beside this one.)
CREATE TABLE IF NOT EXISTS domains (
    host               text        PRIMARY KEY,
    root_redirect      text        NOT NULL DEFAULT '',
    not_found_redirect text        NOT NULL DEFAULT '',
    robots_txt         text        NOT NULL DEFAULT '',
    -- The ShortLinkDomain that governs the host: its name and UID.
    owner              text        NOT NULL DEFAULT '',
    owner_uid          text        NOT NULL DEFAULT '',
    updated_at         timestamptz NOT NULL DEFAULT now()
);
