-- The KernelCI list `GET /jobs?job=next&sort=created_on&limit=20` as testgraph sends it (the
-- legacy sort: `created_on DESC NULLS LAST, id DESC`), next to the same page without
-- `NULLS LAST` (the order GraphQL's `kernelciJobs` sends, which is the same page: `created_on` is
-- NOT NULL), and the count beside it; timed and planned on the seeded data. Read-only.
--   psql -h 127.0.0.1 -U postgres -d tg_bench -f bench/diagnostics/kci_jobs_order.sql
-- A descending B-tree scan yields NULLS FIRST; asking for NULLS LAST keeps PostgreSQL from
-- reading (job, created_on) or (created_on) in order, so every job of the tree is fetched and
-- sorted for a page of 20.
\set QUIET on
\o /dev/null
\timing on
\echo '== the page as testgraph sends it for the REST list (NULLS LAST), three times'
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC NULLS LAST, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC NULLS LAST, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC NULLS LAST, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
\echo '== the same page without NULLS LAST (as GraphQL sends it), three times'
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
\echo '== the count, three times'
SELECT COUNT(*) AS "n" FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}');
SELECT COUNT(*) AS "n" FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}');
SELECT COUNT(*) AS "n" FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}');
\timing off
\o
\echo '== plans'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC NULLS LAST, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM "kci_jobs" WHERE "kci_jobs"."job" = ANY('{next}') ORDER BY "kci_jobs"."created_on" DESC, "kci_jobs"."id" DESC LIMIT 20 OFFSET 0;
