-- The nested tree's two deepest levels as testgraph sent them until 1b5c752 (a window over every
-- child), the per-parent LIMIT forms it sends since, and narrower variants, timed on
-- the seeded data. Read-only (temporary tables only).
--   psql -h 127.0.0.1 -U postgres -d tg_bench -f bench/diagnostics/nested_levels.sql
-- The ids are the ones the tree reaches: 20 newest versions -> 10 builds each -> 5 tasks each.
\set QUIET on
CREATE TEMP TABLE v AS SELECT id FROM evg_versions ORDER BY order_num DESC, id DESC LIMIT 20;
CREATE TEMP TABLE b AS SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY version_id ORDER BY position, id) rn
  FROM evg_builds WHERE version_id IN (SELECT id FROM v)) w WHERE rn <= 10;
CREATE TEMP TABLE t AS SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY build_id ORDER BY position, id) rn
  FROM evg_tasks WHERE build_id IN (SELECT id FROM b)) w WHERE rn <= 5;
SELECT 'IN (' || string_agg(id::text, ',') || ')' AS bids, 'ARRAY[' || string_agg(id::text, ',') || ']::bigint[]' AS barr FROM b \gset
SELECT 'IN (' || string_agg(id::text, ',') || ')' AS tids, 'ARRAY[' || string_agg(id::text, ',') || ']::bigint[]' AS tarr FROM t \gset
\o /dev/null
\timing on

\echo '== test results, as testgraph sent it until 1b5c752 (window over all results of 1,000 tasks, correlated execution check)'
SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids AND "evg_test_results"."execution" IN (SELECT "evg_tasks"."execution" FROM "evg_tasks" WHERE "evg_tasks"."id" = "evg_test_results"."task_id")) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC;
SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids AND "evg_test_results"."execution" IN (SELECT "evg_tasks"."execution" FROM "evg_tasks" WHERE "evg_tasks"."id" = "evg_test_results"."task_id")) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC;
SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids AND "evg_test_results"."execution" IN (SELECT "evg_tasks"."execution" FROM "evg_tasks" WHERE "evg_tasks"."id" = "evg_test_results"."task_id")) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC;
\echo '== the same without the correlated execution check'
SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC;
SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC;
\echo '== LATERAL with LIMIT per task, execution checked by joining the task once'
SELECT r.* FROM unnest(:tarr) AS p(id) JOIN evg_tasks t ON t.id = p.id CROSS JOIN LATERAL (SELECT * FROM evg_test_results r WHERE r.task_id = t.id AND r.execution = t.execution ORDER BY r.id LIMIT 6) r;
SELECT r.* FROM unnest(:tarr) AS p(id) JOIN evg_tasks t ON t.id = p.id CROSS JOIN LATERAL (SELECT * FROM evg_test_results r WHERE r.task_id = t.id AND r.execution = t.execution ORDER BY r.id LIMIT 6) r;
\echo '== LATERAL, only the columns the query asked for'
SELECT r.task_id, r.id, r.test_file FROM unnest(:tarr) AS p(id) JOIN evg_tasks t ON t.id = p.id CROSS JOIN LATERAL (SELECT * FROM evg_test_results r WHERE r.task_id = t.id AND r.execution = t.execution ORDER BY r.id LIMIT 6) r;
SELECT r.task_id, r.id, r.test_file FROM unnest(:tarr) AS p(id) JOIN evg_tasks t ON t.id = p.id CROSS JOIN LATERAL (SELECT * FROM evg_test_results r WHERE r.task_id = t.id AND r.execution = t.execution ORDER BY r.id LIMIT 6) r;
\echo '== tasks, as testgraph sent it until 1b5c752 (window over all 20 tasks of 200 builds)'
SELECT * FROM (SELECT "evg_tasks".*, ROW_NUMBER() OVER ( PARTITION BY "evg_tasks"."build_id" ORDER BY "evg_tasks"."position" ASC, "evg_tasks"."id" ASC ) AS "rn" FROM "evg_tasks" WHERE "evg_tasks"."build_id" :bids) AS "w" WHERE "rn" <= 6 ORDER BY "build_id" ASC, "rn" ASC;
SELECT * FROM (SELECT "evg_tasks".*, ROW_NUMBER() OVER ( PARTITION BY "evg_tasks"."build_id" ORDER BY "evg_tasks"."position" ASC, "evg_tasks"."id" ASC ) AS "rn" FROM "evg_tasks" WHERE "evg_tasks"."build_id" :bids) AS "w" WHERE "rn" <= 6 ORDER BY "build_id" ASC, "rn" ASC;
\echo '== tasks, LATERAL with LIMIT per build'
SELECT x.* FROM unnest(:barr) AS p(id) CROSS JOIN LATERAL (SELECT * FROM evg_tasks k WHERE k.build_id = p.id ORDER BY k.position, k.id LIMIT 6) x;
SELECT x.* FROM unnest(:barr) AS p(id) CROSS JOIN LATERAL (SELECT * FROM evg_tasks k WHERE k.build_id = p.id ORDER BY k.position, k.id LIMIT 6) x;
\timing off
\o
\echo '== plan of the test-results level as sent until 1b5c752 (estimated cost vs jit_above_cost; JIT section if it kicks in)'
EXPLAIN (ANALYZE, BUFFERS, COSTS, SUMMARY) SELECT * FROM (SELECT "evg_test_results".*, ROW_NUMBER() OVER ( PARTITION BY "evg_test_results"."task_id" ORDER BY "evg_test_results"."id" ASC ) AS "rn" FROM "evg_test_results" WHERE "evg_test_results"."task_id" :tids AND "evg_test_results"."execution" IN (SELECT "evg_tasks"."execution" FROM "evg_tasks" WHERE "evg_tasks"."id" = "evg_test_results"."task_id")) AS "w" WHERE "rn" <= 6 ORDER BY "task_id" ASC, "rn" ASC \g /tmp/tg_nested_plan.txt
\! grep -E '^ [A-Z]|^ *(Buffers|Functions|Timing|Options)|JIT|Execution Time' /tmp/tg_nested_plan.txt | cut -c1-160
