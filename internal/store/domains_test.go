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
	"reflect"
	"testing"
)

// The manager writes a host's row only when it differs, removes it only for the object that
// wrote it, and the redirectors, through PgBouncer, see every change in the fingerprint.
func TestDomainRowsAndFingerprint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	s := openStore(t, db.direct, Options{})
	viaBouncer := openStore(t, db.bouncer, Options{ViaPgBouncer: true})
	fingerprint := func() string {
		t.Helper()
		fp, err := viaBouncer.DomainsFingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fp
	}
	empty := fingerprint()

	d := Domain{Host: "go.example.com", RootRedirect: "https://example.com/", RobotsTxt: "User-agent: *\nDisallow: /\n",
		Owner: "go", OwnerUID: "uid-1"}
	if changed, err := s.UpsertDomain(ctx, d); err != nil || !changed {
		t.Fatalf("first upsert = %v, %v; want written", changed, err)
	}
	written := fingerprint()
	if written == empty {
		t.Fatal("fingerprint unchanged by an insert")
	}
	if changed, err := s.UpsertDomain(ctx, d); err != nil || changed {
		t.Fatalf("same upsert = %v, %v; want nothing written", changed, err)
	}
	if fingerprint() != written {
		t.Fatal("fingerprint changed by an upsert that wrote nothing")
	}
	d.NotFoundRedirect = "https://example.com/404"
	if changed, err := s.UpsertDomain(ctx, d); err != nil || !changed {
		t.Fatalf("changed upsert = %v, %v; want written", changed, err)
	}
	if fingerprint() == written {
		t.Fatal("fingerprint unchanged by an update")
	}
	got, err := viaBouncer.Domains(ctx)
	if err != nil || !reflect.DeepEqual(got, []Domain{d}) {
		t.Fatalf("Domains = %+v, %v; want %+v", got, err, d)
	}

	if deleted, err := s.DeleteDomain(ctx, d.Host, "uid-other"); err != nil || deleted {
		t.Fatalf("delete by another object = %v, %v; want a no-op", deleted, err)
	}
	if deleted, err := s.DeleteDomain(ctx, d.Host, "uid-1"); err != nil || !deleted {
		t.Fatalf("delete by the owner = %v, %v; want deleted", deleted, err)
	}
	if fp := fingerprint(); fp != empty {
		t.Fatalf("fingerprint of an emptied table = %q, want %q", fp, empty)
	}
}
