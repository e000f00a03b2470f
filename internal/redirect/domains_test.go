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

package redirect_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/redirect"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// domainServer runs a resolver whose polls refresh a Domains, and the handler over both.
func (f *fixture) domainServer() http.Handler {
	f.t.Helper()
	domains := redirect.NewDomains(f.reader, f.log())
	r := redirect.NewResolver(redirect.ResolverDeps{
		Store: f.reader, Cache: f.cache, Domains: domains, Metrics: f.metrics, Logger: f.log(),
		Options: redirect.Options{PollInterval: 50 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, nil) }()
	f.t.Cleanup(func() { cancel(); <-done; r.Close() })
	return redirect.NewServer(redirect.Deps{
		Links: r, Visits: f.visits, Metrics: f.metrics, Logger: f.log(), Domains: domains,
		Config: redirect.Config{Site: links.MustSite(testHost, otherHost)},
	})
}

type answer struct {
	status         int
	location, body string
}

func getOn(h http.Handler, host, path string) answer {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	return answer{rec.Code, rec.Header().Get("Location"), string(body)}
}

// waitAnswer polls until host answers path with want; the poll interval is the only clock.
func waitAnswer(t *testing.T, h http.Handler, host, path string, want answer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := getOn(h, host, path)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s = %+v, want %+v", host, path, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A host the manager writes into the domains table is served by a running redirector from its
// next poll: its links, /, /robots.txt and unknown codes; removed, it is not served any more.
func TestDeclaredDomainReachesARunningRedirector(t *testing.T) {
	f := newFixture(t, nil)
	h := f.domainServer()
	const host = "team.example.com"
	l := link("docs", "https://docs.example.com/")
	l.Domain = host
	f.upsert(l)
	if got := getOn(h, host, "/docs"); got.status != http.StatusNotFound {
		t.Fatalf("undeclared host answered %+v; want 404", got)
	}

	row := store.Domain{Host: host, RootRedirect: "https://example.com/home", NotFoundRedirect: "https://example.com/missing",
		RobotsTxt: links.DefaultRobotsTxt, Owner: "team", OwnerUID: "uid-team"}
	if _, err := f.writer.UpsertDomain(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, h, host, "/docs", answer{http.StatusFound, "https://docs.example.com/", ""})
	for path, want := range map[string]answer{
		"/":           {http.StatusFound, "https://example.com/home", ""},
		"/unknown":    {http.StatusFound, "https://example.com/missing", ""},
		"/robots.txt": {http.StatusOK, "", links.DefaultRobotsTxt},
	} {
		if got := getOn(h, host, path); got != want {
			t.Errorf("%s = %+v, want %+v", path, got, want)
		}
	}
	// Upper case and a port are the same host.
	if got := getOn(h, "Team.Example.com:8080", "/docs"); got.status != http.StatusFound {
		t.Errorf("host with upper case and port = %+v", got)
	}

	row.RobotsTxt = "User-agent: *\nAllow: /\n"
	if _, err := f.writer.UpsertDomain(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, h, host, "/robots.txt", answer{http.StatusOK, "", row.RobotsTxt})

	if _, err := f.writer.DeleteDomain(context.Background(), host, "uid-team"); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, h, host, "/docs", answer{http.StatusNotFound, "", ""})
}

// A host only the flags serve answers as before domains were objects: / and /robots.txt 404,
// an unknown code 404; a declared flag host gains what its object says.
func TestFlagHostsAnswerAsBeforeUntilDeclared(t *testing.T) {
	f := newFixture(t, nil)
	h := f.domainServer()
	f.upsert(link("known", "https://example.com/k"))
	waitAnswer(t, h, testHost, "/known", answer{http.StatusFound, "https://example.com/k", ""})
	for _, path := range []string{"/", "/robots.txt", "/unknown"} {
		if got := getOn(h, testHost, path); got.status != http.StatusNotFound || got.location != "" {
			t.Errorf("%s on a flag host = %+v, want a plain 404", path, got)
		}
	}
	if got := getOn(h, "nowhere.example", "/known"); got.status != http.StatusNotFound {
		t.Errorf("unknown host = %+v, want 404", got)
	}

	// The default domain declared by an object: its links stay where they are (stored under '').
	row := store.Domain{Host: testHost, RobotsTxt: links.DefaultRobotsTxt, Owner: "default", OwnerUID: "uid-default"}
	if _, err := f.writer.UpsertDomain(context.Background(), row); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, h, testHost, "/robots.txt", answer{http.StatusOK, "", links.DefaultRobotsTxt})
	if got := getOn(h, testHost, "/known"); got.status != http.StatusFound {
		t.Errorf("default-domain link after its host was declared = %+v", got)
	}
	if got := getOn(h, testHost, "/"); got.status != http.StatusNotFound {
		t.Errorf("/ without rootRedirect = %+v, want 404", got)
	}
}
