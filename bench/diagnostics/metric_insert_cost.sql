-- What 5,000 metric rows cost PostgreSQL itself, with testgraph's indexes and foreign keys, with
-- the indexes but no foreign keys, and with the primary key only. Every insert is rolled back;
-- the two scratch tables are dropped at the end.
--   psql -h 127.0.0.1 -U postgres -d tg_bench -f bench/diagnostics/metric_insert_cost.sql
\set QUIET on
DROP TABLE IF EXISTS diag_metrics_idx, diag_metrics_bare;
CREATE TABLE diag_metrics_idx (LIKE monitor_metrics INCLUDING ALL);          -- 7 indexes, no FKs
CREATE TABLE diag_metrics_bare (LIKE monitor_metrics INCLUDING DEFAULTS INCLUDING IDENTITY);
ALTER TABLE diag_metrics_bare ADD PRIMARY KEY (id);                           -- primary key only
\set rows 'SELECT 1 + g % 1000, 1 + g % 10, ''2024-06-01T12:00:00.000000'', ''2024-06-01 12:00:00'', ''tests.ingest.test_mod_'' || (g % 50), ''test_ingest_'' || g, '''', ''tests/ingest/test_mod_'' || (g % 50) || ''.py'', ''function'', ''component_'' || (g % 6), 0.5, 0.4, 0.02, 0.9, 12.5 FROM generate_series(1, 5000) g'
\set cols '(session_id, context_id, item_start_time, item_start_at, item_path, item, item_variant, item_fs_loc, kind, component, total_time, user_time, kernel_time, cpu_usage, mem_usage)'
\echo '== monitor_metrics as migrated (7 indexes, 2 foreign keys)'
BEGIN;
\timing on
INSERT INTO monitor_metrics :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO monitor_metrics :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO monitor_metrics :cols :rows;
\timing off
ROLLBACK;
\echo '== same indexes, no foreign keys'
BEGIN;
\timing on
INSERT INTO diag_metrics_idx :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO diag_metrics_idx :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO diag_metrics_idx :cols :rows;
\timing off
ROLLBACK;
\echo '== primary key only'
BEGIN;
\timing on
INSERT INTO diag_metrics_bare :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO diag_metrics_bare :cols :rows;
\timing off
ROLLBACK;
BEGIN;
\timing on
INSERT INTO diag_metrics_bare :cols :rows;
\timing off
ROLLBACK;
DROP TABLE diag_metrics_idx, diag_metrics_bare;
