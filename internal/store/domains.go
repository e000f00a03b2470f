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
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// All SQL that touches domains is here. The manager writes a row per host a ShortLinkDomain
// governs; the redirectors read the whole table, which holds a platform admin's few hosts, when
// its fingerprint changes.

// Domain is a served host's row.
type Domain struct {
	Host string
	// RootRedirect and NotFoundRedirect are where / and an unknown code go; "" answers 404.
	RootRedirect, NotFoundRedirect string
	// RobotsTxt is served at /robots.txt, as it is.
	RobotsTxt string
	// Owner and OwnerUID name the ShortLinkDomain that governs the host.
	Owner, OwnerUID string
}

const (
	domainColumns = "host, root_redirect, not_found_redirect, robots_txt, owner, owner_uid"

	// upsertDomainSQL writes only when something differs, so a resync rewrites nothing.
	upsertDomainSQL = `INSERT INTO domains AS d (` + domainColumns + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (host) DO UPDATE SET root_redirect = excluded.root_redirect,
			not_found_redirect = excluded.not_found_redirect, robots_txt = excluded.robots_txt,
			owner = excluded.owner, owner_uid = excluded.owner_uid, updated_at = now()
		WHERE (d.root_redirect, d.not_found_redirect, d.robots_txt, d.owner, d.owner_uid)
			IS DISTINCT FROM (excluded.root_redirect, excluded.not_found_redirect, excluded.robots_txt,
				excluded.owner, excluded.owner_uid)
		RETURNING true`

	// deleteDomainSQL removes a host's row only for the object that wrote it: an object that
	// took the host over has written its own.
	deleteDomainSQL = "DELETE FROM domains WHERE host = $1 AND owner_uid = $2"

	listDomainsSQL = "SELECT " + domainColumns + " FROM domains ORDER BY host"

	// domainsFingerprintSQL changes whenever a row is written or removed: every write gives a
	// row a new xmin. One short value a poll, instead of every robots.txt.
	domainsFingerprintSQL = "SELECT coalesce(md5(string_agg(host || ':' || xmin::text, ',' ORDER BY host)), '') FROM domains"
)

// UpsertDomain makes the table hold d, and reports whether it wrote anything.
func (s *Store) UpsertDomain(ctx context.Context, d Domain) (bool, error) {
	var changed bool
	err := s.pool.QueryRow(ctx, upsertDomainSQL, d.Host, d.RootRedirect, d.NotFoundRedirect, d.RobotsTxt,
		d.Owner, d.OwnerUID).Scan(&changed)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("write domain", err)
	}
	return changed, nil
}

// DeleteDomain removes host's row if ownerUID wrote it, and reports whether it did.
func (s *Store) DeleteDomain(ctx context.Context, host, ownerUID string) (bool, error) {
	tag, err := s.pool.Exec(ctx, deleteDomainSQL, host, ownerUID)
	if err != nil {
		return false, wrap("delete domain", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Domains lists every row, by host. One statement: it works through PgBouncer.
func (s *Store) Domains(ctx context.Context) ([]Domain, error) {
	rows, err := s.pool.Query(ctx, listDomainsSQL)
	if err != nil {
		return nil, wrap("list domains", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Domain, error) {
		var d Domain
		err := r.Scan(&d.Host, &d.RootRedirect, &d.NotFoundRedirect, &d.RobotsTxt, &d.Owner, &d.OwnerUID)
		return d, err
	})
	if err != nil {
		return nil, wrap("list domains", err)
	}
	return out, nil
}

// DomainsFingerprint returns a value that changes whenever the table does ("" when empty).
func (s *Store) DomainsFingerprint(ctx context.Context) (string, error) {
	var fp string
	if err := s.pool.QueryRow(ctx, domainsFingerprintSQL).Scan(&fp); err != nil {
		return "", wrap("read domains fingerprint", err)
	}
	return fp, nil
}
