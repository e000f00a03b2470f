-- 0012: per link and UTC day, visits by referrer domain, by device class and by country (issue
-- 18), written by the stats flush in the same transaction as visit_hours, so a replayed batch
-- counts nothing twice.
--
-- One table for the three dimensions: a link-day has at most 22 referrer rows (the top 20
-- domains, "(direct)" and "(other)"), 4 device rows and one row per ISO 3166 country, so its
-- storage is bounded whatever the traffic. Rows with visits = 0 never hold a count and are
-- not written; readers need not filter them.
--
-- Expand: a new table. Redirectors of the previous release do not write it; the visits they
-- flush during a rolling update are missing from the breakdowns only.
CREATE TABLE IF NOT EXISTS visit_breakdowns (
    domain    text   NOT NULL,
    code      text   NOT NULL,
    day       date   NOT NULL,
    dimension text   NOT NULL CHECK (dimension IN ('referrer', 'device', 'country')),
    value     text   NOT NULL,
    visits    bigint NOT NULL,
    PRIMARY KEY (domain, code, day, dimension, value)
);
