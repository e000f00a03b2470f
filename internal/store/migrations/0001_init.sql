-- 0001: the initial schema (DESIGN.md §4). Later files expand, then contract: see README.md.

-- Every write to urls takes the next value, so caches and the change feed can order writes.
CREATE SEQUENCE urls_version_seq;

CREATE TABLE urls (
    domain         text        NOT NULL DEFAULT '',
    code           text        NOT NULL,
    target         text        NOT NULL,
    redirect_type  smallint    NOT NULL DEFAULT 302 CHECK (redirect_type IN (301, 302, 307, 308)),
    forward_query  boolean     NOT NULL DEFAULT false,
    valid_since    timestamptz NULL,
    valid_until    timestamptz NULL,
    expired_target text        NOT NULL DEFAULT '',
    suspended      boolean     NOT NULL DEFAULT false,
    tags           text[]      NOT NULL DEFAULT '{}',
    source         text        NOT NULL CHECK (source IN ('k8s', 'api')),
    owner          text        NOT NULL DEFAULT '',
    owner_uid      text        NOT NULL DEFAULT '',
    install_id     text        NOT NULL DEFAULT '',
    version        bigint      NOT NULL DEFAULT nextval('urls_version_seq'),
    deleted        boolean     NOT NULL DEFAULT false,
    -- The claim time of the holder: a ShortLink's creationTimestamp, or an API link's creation.
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, code)
);

ALTER SEQUENCE urls_version_seq OWNED BY urls.version;

-- The change feed: version > last seen.
CREATE INDEX urls_version_idx ON urls (version);
-- Garbage collection lists one installation's live declared rows in key order.
CREATE INDEX urls_install_idx ON urls (install_id, domain, code) WHERE source = 'k8s' AND NOT deleted;
-- Tombstone purge, oldest first.
CREATE INDEX urls_tombstones_idx ON urls (updated_at) WHERE deleted;

-- Visit counts live apart from urls, so counting never locks or rewrites a link row. No foreign
-- key for the same reason: the holder rule resets a code's counts when the holder changes.
CREATE TABLE url_stats (
    domain        text        NOT NULL,
    code          text        NOT NULL,
    visits        bigint      NOT NULL DEFAULT 0,
    last_visit_at timestamptz NULL,
    PRIMARY KEY (domain, code)
);

-- One row per counted visit. Monthly partitions are created ahead by the manager; the DEFAULT
-- partition catches visits when that lags, so none is refused.
CREATE TABLE visit_logs (
    visited_at timestamptz NOT NULL,
    domain     text        NOT NULL,
    code       text        NOT NULL,
    client_ip  inet        NULL,
    user_agent text        NOT NULL DEFAULT '',
    referer    text        NOT NULL DEFAULT ''
) PARTITION BY RANGE (visited_at);

CREATE TABLE visit_logs_default PARTITION OF visit_logs DEFAULT;

-- The id of every flushed stats batch, written with its counts, so a retried flush counts once.
CREATE TABLE stats_batches (
    batch_id   text        PRIMARY KEY,
    flushed_at timestamptz NOT NULL DEFAULT now()
);
