/*
Copyright 2026 The Shortlink Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// All SQL that touches urls, and api_batch (the API batch's staging table for it), is here; the
// Go that runs it is in the files named after what it does (declared.go, apilinks.go, …). Every
// statement lists the link's columns from linkColumns (urls_columns.go). Every write to urls
// takes a new version from urls_version_seq.

// rowColumns are the urls columns scanRow reads, in its order.
var rowColumns = "domain, code, " + linkColumnList() + ", version, deleted, install_id, created_at, updated_at"

var (
	getRowSQL = "SELECT " + rowColumns + " FROM urls WHERE domain = $1 AND code = $2"

	// lockHolderSQL locks the row first, so its holder cannot change before the upsert.
	lockHolderSQL = "SELECT owner_uid FROM urls WHERE domain = $1 AND code = $2 FOR UPDATE"

	listDeclaredSQL = "SELECT " + rowColumns + ` FROM urls
		WHERE install_id = $1 AND source = 'k8s' AND NOT deleted AND (domain, code) > ($2::text, $3::text)
		ORDER BY domain, code LIMIT $4`

	deleteDeclaredSQL = `UPDATE urls
		SET deleted = true, version = nextval('urls_version_seq'), updated_at = now()
		WHERE domain = $1 AND code = $2 AND source = 'k8s' AND owner_uid = $3 AND NOT deleted
		RETURNING version`

	releaseOtherClaimsSQL = `UPDATE urls
		SET deleted = true, version = nextval('urls_version_seq'), updated_at = now()
		WHERE owner_uid = $1 AND source = 'k8s' AND NOT deleted AND (domain, code) <> ($2, $3)
		RETURNING ` + rowColumns

	// liveDeclaredSQL is a subquery: the key and holder of every live k8s row stamped with the
	// installation $1 (VisitTotals joins it with url_stats).
	liveDeclaredSQL = `(SELECT domain, code, owner, owner_uid FROM urls
		WHERE install_id = $1 AND source = 'k8s' AND NOT deleted)`

	// liveLinkExistsSQL is a condition: (domain, code) = ($1, $2) has a live row.
	liveLinkExistsSQL = `EXISTS (SELECT 1 FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted)`
)

// upsertDeclaredSQL writes a declared link only when the caller may hold the code and something
// differs (declaredColumns, the one definition of "unchanged"). The holder rule (DESIGN.md §3)
// lets the write through when the row is a tombstone (nobody holds the code), is already ours
// (same UID), is the same ShortLink restored under a new UID (same k8s namespace/name), or, for a
// claim eligible since its creation only, was claimed later than we claim it ((created_at,
// owner_uid) ordering, so ties are broken by UID and the order is total). Any other live holder
// keeps its code: a dormant claim (refused, or on an unserved domain) that becomes eligible
// later must not take it, although its creationTimestamp is older.
//
// A claim time is a ShortLink's creationTimestamp, in whole seconds, so the holder's is compared
// in whole seconds too: an API link (created_at to the microsecond, an empty owner_uid) keeps its
// code against a ShortLink made later in the same second, whose timestamp would otherwise read
// as older.
//
// The proposed row takes a sequence value even when it ends up a no-op: a harmless gap, and
// the only way to keep this one statement. The row itself is not written.
var upsertDeclaredSQL = `
INSERT INTO urls AS u (domain, code, ` + declaredColumnList("") + `, version)
VALUES ($1, $2, ` + placeholders(3, len(declaredColumns)) + `, nextval('urls_version_seq'))
ON CONFLICT (domain, code) DO UPDATE SET ` + declaredUpdates() + `,
	version = nextval('urls_version_seq'), deleted = false, updated_at = now()
WHERE (u.deleted
		OR u.owner_uid = EXCLUDED.owner_uid
		OR (u.source = 'k8s' AND u.owner = EXCLUDED.owner)
		OR (` + eligibleSinceCreationParam() + ` AND
			(date_trunc('second', u.created_at), u.owner_uid) > (EXCLUDED.created_at, EXCLUDED.owner_uid)))
	AND (` + declaredColumnList("u.") + `, u.deleted) IS DISTINCT FROM (` + declaredColumnList("EXCLUDED.") + `, false)
RETURNING version, xmax = 0` // xmax is 0 only on a freshly inserted tuple

// purgeTombstonesSQL removes up to $2 tombstones last written before $1, with their url_stats
// rows, and counts them. Rows locked by a concurrent writer are skipped.
var purgeTombstonesSQL = `
WITH gone AS (
	DELETE FROM urls WHERE (domain, code) IN (
		SELECT domain, code FROM urls WHERE deleted AND updated_at < $1
		ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
	RETURNING domain, code
), stats AS (` + resetVisitCountsOf("gone") + `)
SELECT count(*) FROM gone`

// apiInsertColumns are the columns an API create writes, in the order of its values: the key,
// the link's columns, then its claim time and version.
var apiInsertColumns = "domain, code, " + linkColumnList() + ", created_at, version"

// createdColumns are what an API create reads back: the rest of the stored row is the link as
// sent (see createdRow). Reading all eighteen columns of a thousand rows back, in the text
// format QueryExecModeExec gets, was a measurable part of a batch's cost.
const createdColumns = `version, valid_since, valid_until, created_at`

// reviveTombstone makes an insert into urls take over a tombstone and leave a live row alone.
var reviveTombstone = `ON CONFLICT (domain, code) DO UPDATE SET ` + linkAssignments(fromExcluded) + `,
		install_id = '', created_at = EXCLUDED.created_at,
		version = EXCLUDED.version, deleted = false, updated_at = now()
	WHERE u.deleted`

// insertAPISQL creates an API link, or revives a tombstone under the same key; a live row makes
// it return nothing. The claim time of an API link is its creation (DESIGN.md §3), so a
// ShortLink created earlier may later take the code over. Whoever held a revived tombstone, its
// visit counts go with it.
var insertAPISQL = `
WITH ins AS (
	INSERT INTO urls AS u (` + apiInsertColumns + `)
	VALUES ($1, $2, ` + placeholders(3, len(linkColumns)) + `, now(), nextval('urls_version_seq'))
	` + reviveTombstone + `
	RETURNING domain, code, ` + createdColumns + `
), reset AS (` + resetVisitCountsOf("ins") + `)
SELECT ` + createdColumns + ` FROM ins`

// getWithVisitsSQL reads a live row and its visit totals, people's and programs'.
var getWithVisitsSQL = "SELECT " + rowColumns + ", " + visitsOf("urls") + `
	FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted`

// lockLiveRowSQL reads a live row and locks it until the transaction ends.
var lockLiveRowSQL = "SELECT " + rowColumns + " FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted FOR UPDATE"

// patchAPISQL rewrites the link columns of (domain, code) from $3… with a new version.
var patchAPISQL = `UPDATE urls SET ` + linkAssignments(func(i int, _ string) string { return fmt.Sprintf("$%d", i+3) }) + `,
	version = nextval('urls_version_seq'), updated_at = now()
	WHERE domain = $1 AND code = $2 RETURNING ` + rowColumns

// deleteAPISQL tombstones the row when it is an API link the caller owns ($3; empty for any),
// else returns what the row is (version 0: it was left alone). One statement.
const deleteAPISQL = `WITH del AS (
		UPDATE urls SET deleted = true, version = nextval('urls_version_seq'), updated_at = now()
		WHERE domain = $1 AND code = $2 AND source = 'api' AND NOT deleted AND ($3 = '' OR owner = $3)
		RETURNING version, source)
	SELECT version, source FROM del
	UNION ALL
	SELECT 0, source FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted AND NOT EXISTS (SELECT 1 FROM del)`

// A batch is copied into a temporary table, dropped at commit, then inserted from there in one
// statement. Both work through PgBouncer in transaction pooling mode: the table lives as long
// as the transaction, which keeps its server connection throughout.
var createBatchTableSQL = `CREATE TEMP TABLE api_batch (
	domain text NOT NULL, code text NOT NULL, ` + batchColumnTypes() + `) ON COMMIT DROP`

// batchColumns are api_batch's columns, in the order of the rows copied in (apiBatch.copy).
var batchColumns = append([]string{"domain", "code"}, linkColumnNames()...)

// batchTable names api_batch for COPY.
var batchTable = pgx.Identifier{"api_batch"}

const emptyBatchTableSQL = `DELETE FROM api_batch`

// insertAPIBatchSQL is insertAPISQL for every row of api_batch: each stored row (new, or a
// revived tombstone) takes its own version; a live row's key returns nothing.
var insertAPIBatchSQL = `
WITH ins AS (
	INSERT INTO urls AS u (` + apiInsertColumns + `)
	SELECT domain, code, ` + linkColumnList() + `, now(), nextval('urls_version_seq')
	FROM api_batch
	` + reviveTombstone + `
	RETURNING domain, code, ` + createdColumns + `
), reset AS (` + resetVisitCountsOf("ins") + `)
SELECT domain, code, ` + createdColumns + ` FROM ins`

// analyzeBatchSQL gives the planner api_batch's row count before insertAPIBatchSQL. Unanalysed,
// a temporary table's rows are guessed from its size and a nominal row width; a thousand links
// with long targets were guessed at ten thousand, and the stats reset then hashed all of
// url_stats (a sequential scan, 280 ms at a million rows) instead of probing its primary key
// for each link (BenchmarkCreateAPILinksBigStats).
const analyzeBatchSQL = `ANALYZE api_batch`

// listLinksSQL selects a page of ListLinks and its arguments.
func listLinksSQL(q ListQuery) (string, []any) {
	sql := "SELECT " + rowColumns + " FROM urls WHERE domain = $1 AND code > $2 AND NOT deleted"
	args := []any{q.Domain, q.After, q.Limit}
	if q.Tag != "" {
		// The containment operator, so the GIN index on tags can serve it.
		args = append(args, q.Tag)
		sql += fmt.Sprintf(" AND tags @> ARRAY[$%d::text]", len(args))
	}
	if q.OwnedBy != "" {
		args = append(args, q.OwnedBy)
		sql += fmt.Sprintf(" AND source = 'api' AND owner = $%d", len(args))
	}
	return sql + " ORDER BY code LIMIT $3", args
}

// The change feeds read tombstones too; both are single statements, for PgBouncer.
var (
	recentStartSQL = `SELECT min(txid) FROM urls
		WHERE version > (SELECT coalesce(max(version), 0) FROM urls) - $1::bigint AND txid IS NOT NULL`

	feedSQL = "SELECT " + rowColumns + `, txid FROM urls
		WHERE txid IS NOT NULL AND (txid, version) > ($1::bigint, $2::bigint)
		ORDER BY txid, version LIMIT $3`

	changesSQL = "SELECT " + rowColumns + " FROM urls WHERE version > $1::bigint ORDER BY version LIMIT $2"
)

// lookupSQL reads a link's own columns: the key is the caller's, and tombstone, installation
// and timestamps are not part of a link. decodeLookup reads them in this order.
var lookupSQL = "SELECT " + linkColumnList() + `, version
	FROM urls WHERE domain = $1 AND code = $2 AND NOT deleted`
