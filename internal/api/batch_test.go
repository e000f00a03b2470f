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

package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/shortlink-dev/shortlink/internal/api"
)

// batchOf builds a batch body of the given link objects.
func batchOf(items ...string) string { return `{"links": [` + strings.Join(items, ",") + `]}` }

// TestBatchCreatesTheValidLinksAndReportsTheRest: every kind of refusal sits between valid
// links; the valid ones are stored, the others reported in place, and nothing else written.
func TestBatchCreatesTheValidLinksAndReportsTheRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.declare("decl")
	f.mustCreate(`{"target": "https://example.com/held", "code": "held"}`)
	items := []struct {
		body   string
		status int
		field  string
	}{
		{`{"target": "https://example.com/1", "code": "one", "tags": ["news"]}`, 201, ""},
		{`{"target": "https://example.com/gen"}`, 201, ""},
		{`{"target": "ftp://example.com/"}`, 400, "target"},
		{`{"target": "https://example.com/dup", "code": "one"}`, 409, "code"},
		{`{"target": "https://example.com/held", "code": "held"}`, 409, "code"},
		{`{"target": "https://example.com/decl", "code": "decl"}`, 409, "code"},
		{`{"code": "notarget"}`, 400, "target"},
		{`{"target": "https://example.com/", "colour": "red"}`, 400, "colour"},
		{`{"target": "https://example.com/", "domain": "evil.example"}`, 400, "domain"},
		{`[1]`, 400, "body"},
		{`{"target": "https://example.com/2", "code": "one", "domain": "go.example.com"}`, 201, ""},
		{`{"target": "https://example.com/gen2", "redirectType": 301}`, 201, ""},
	}
	bodies := make([]string, 0, len(items))
	for _, it := range items {
		bodies = append(bodies, it.body)
	}
	rec := f.call("POST", "/api/v1/links:batch", batchOf(bodies...))
	var got api.BatchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("batch = %d %s", rec.Code, rec.Body)
	}
	if got.Created != 4 || len(got.Results) != len(items) {
		t.Fatalf("batch = %+v, want 4 created of %d results", got, len(items))
	}
	for i, it := range items {
		r := got.Results[i]
		switch {
		case r.Status != it.status:
			t.Errorf("item %d (%s): status %d, want %d (%+v)", i, it.body, r.Status, it.status, r.Error)
		case it.status == 201 && (r.Link == nil || r.Link.Version <= 0 || r.Error != nil):
			t.Errorf("item %d: %+v, want the created link", i, r)
		case it.status != 201 && (r.Error == nil || r.Error.Field != it.field || r.Link != nil):
			t.Errorf("item %d: %+v, want an error naming %q", i, r.Error, it.field)
		}
	}
	if n := f.count("SELECT count(*) FROM urls"); n != 6 {
		t.Fatalf("urls holds %d rows, want 6 (decl, held and four from the batch)", n)
	}
	if n := f.count("SELECT count(*) FROM urls WHERE code = 'one' AND domain = '' AND target = 'https://example.com/1' AND tags = '{news}'"); n != 1 {
		t.Fatal("the first link of code one was not stored as asked")
	}
	gen := got.Results[11].Link
	if gen.RedirectType != 301 || gen.ShortURL != "https://sho.rt/"+gen.Code {
		t.Fatalf("generated = %+v", gen)
	}
	// The change feed carries batch rows to the redirector like any other write.
	eventually(t, "a batch-created code to redirect", func() bool { return f.get(gen.Code).Code == http.StatusMovedPermanently })
	if h := f.histogram("shortlink_api_batch_size"); h.GetSampleCount() != 1 || h.GetSampleSum() != float64(len(items)) {
		t.Fatalf("batch size histogram = %v samples summing %v, want 1 of %d", h.GetSampleCount(), h.GetSampleSum(), len(items))
	}
}

// TestBatchRefusals: a request that is not a batch of 1 to 1000 links is refused whole.
func TestBatchRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	link := `{"target": "https://example.com/x"}`
	big := `{"target": "https://example.com/` + strings.Repeat("a", 2000) + `"}`
	tooLarge := batchOf(strings.Split(strings.Repeat(big+"\n", 1100), "\n")[:1100]...) // > 2 MiB
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"empty", `{"links": []}`, 400, "links"},
		{"null", `{"links": null}`, 400, "links"},
		{"missing", `{}`, 400, "links"},
		{"not an array", `{"links": {}}`, 400, "links"},
		{"too many", batchOf(strings.Split(strings.Repeat(link+"\n", 1001), "\n")[:1001]...), 400, "links"},
		{"unknown field", `{"links": [` + link + `], "dryRun": true}`, 400, "dryRun"},
		{"not json", `links`, 400, "body"},
		{"two objects", `{"links": [` + link + `]} {}`, 400, "body"},
		{"too large", tooLarge, 413, "body"},
	}
	for _, tt := range tests {
		rec := f.call("POST", "/api/v1/links:batch", tt.body)
		var e api.ErrorResponse
		if rec.Code != tt.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Field != tt.field {
			t.Errorf("%s: %d %s, want %d naming %q", tt.name, rec.Code, rec.Body, tt.status, tt.field)
		}
	}
	if n := f.count("SELECT count(*) FROM urls"); n != 0 {
		t.Fatalf("refused batches wrote %d rows", n)
	}
	// A thousand links is a batch, and its body may pass a single create's limit.
	thousand := make([]string, 1000)
	for i := range thousand {
		thousand[i] = fmt.Sprintf(`{"target": "https://example.com/%d/%s"}`, i, strings.Repeat("p", 100))
	}
	body := batchOf(thousand...)
	if len(body) <= api.MaxBodyBytes {
		t.Fatal("the batch of 1000 is not larger than a single create's limit")
	}
	rec := f.call("POST", "/api/v1/links:batch", body)
	var got api.BatchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Created != 1000 {
		t.Fatalf("a batch of 1000 = %d, %d created", rec.Code, got.Created)
	}
	if n := f.count("SELECT count(DISTINCT version) FROM urls WHERE source = 'api'"); n != 1000 {
		t.Fatalf("%d distinct versions for 1000 links, want 1000", n)
	}
}

// histogram reads a histogram without labels from the fixture's registry.
func (f *fixture) histogram(name string) *dto.Histogram {
	f.t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram()
		}
	}
	f.t.Fatalf("no histogram %s", name)
	return nil
}
