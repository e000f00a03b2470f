-- 0005: hourly visit counts per link, for the API's visit series.
--
-- The series used to be counted from visit_logs through an index on (domain, code, visited_at),
-- which PostgreSQL had to update for every single visit: it more than doubled the cost of a
-- stats flush (go test -run '^$' -bench Flush ./internal/stats/: 3.7 µs a visit with it, 1.7
-- without). A flush now adds its counts per link and UTC hour here instead, in the same
-- statement as url_stats, and the series reads a few rows per hour asked for.
--
-- Expand: redirectors of the previous release keep writing visit_logs and url_stats only; the
-- visits they flush during a rolling update are not counted here. Dropping the index breaks no
-- reader of that release: its series still reads visit_logs, without the index.
CREATE TABLE IF NOT EXISTS visit_hours (
    domain text        NOT NULL,
    code   text        NOT NULL,
    hour   timestamptz NOT NULL,
    visits bigint      NOT NULL,
    PRIMARY KEY (domain, code, hour)
);

-- What visit_logs holds so far (hours counted from a UTC origin, whatever the session's zone).
INSERT INTO visit_hours (domain, code, hour, visits)
SELECT domain, code, date_bin('1 hour', visited_at, timestamptz '2000-01-01 00:00:00+00'), count(*)
FROM visit_logs
GROUP BY 1, 2, 3
ON CONFLICT (domain, code, hour) DO NOTHING;

DROP INDEX IF EXISTS visit_logs_link_idx;
