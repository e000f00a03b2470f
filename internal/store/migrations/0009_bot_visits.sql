-- 0009: visits by programs counted apart from people's (issue 18): crawlers, link previews,
-- headless browsers, scripts and prefetches, as the redirector classifies them (internal/bots).
--
-- url_stats.visits and visit_hours.visits keep counting every visit, as before; bot_visits
-- counts the part of them that was a program's, so people's visits are visits - bot_visits and
-- the total stays exact whichever release wrote a visit. visit_logs.bot keeps each visit's class
-- beside its User-Agent, because a prefetch is told by a header the log does not keep.
--
-- Expand: columns with constant defaults are added without rewriting a table (visit_logs'
-- partitions too). Redirectors of the previous release keep adding to visits only: what they
-- count during a rolling update counts as people's, as it did before. Rows from before this
-- migration were never classified: all their visits count as people's.
ALTER TABLE url_stats ADD COLUMN IF NOT EXISTS bot_visits bigint NOT NULL DEFAULT 0;
ALTER TABLE visit_hours ADD COLUMN IF NOT EXISTS bot_visits bigint NOT NULL DEFAULT 0;
ALTER TABLE visit_logs ADD COLUMN IF NOT EXISTS bot boolean NOT NULL DEFAULT false;
