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

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shortlink-dev/shortlink/internal/devenv"
)

const (
	chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	slackUA  = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
)

// TestBotsAndPeopleCountApart: a person on Chrome, Slack's link preview and Chrome prefetching
// the link reach the redirector process; PostgreSQL counts 1 person's visit and 2 programs'
// (url_stats and visit_hours), the ShortLink's status says visits 1 and botVisits 2, kubectl
// get -o wide shows both, and the API's series gives both.
func TestBotsAndPeopleCountApart(t *testing.T) {
	p := stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-bots")
	apply(t, ns, "campaign", "e2e-bots", "https://example.com/campaign")
	waitFor(t, "e2e-bots", http.StatusFound, "https://example.com/campaign")
	for _, h := range []http.Header{
		{"User-Agent": {chromeUA}},
		{"User-Agent": {slackUA}},
		{"User-Agent": {chromeUA}, "Sec-Purpose": {"prefetch"}},
	} {
		if status := visit(t, p, "/e2e-bots", h); status != http.StatusFound {
			t.Fatalf("GET /e2e-bots with %v = %d, want 302", h, status)
		}
	}

	eventually(t, "url_stats and visit_hours", func() string {
		var visits, bots, hourVisits, hourBots int64
		err := db.QueryRow(context.Background(), `SELECT
			coalesce((SELECT visits FROM url_stats WHERE domain = '' AND code = 'e2e-bots'), 0),
			coalesce((SELECT bot_visits FROM url_stats WHERE domain = '' AND code = 'e2e-bots'), 0),
			(SELECT coalesce(sum(visits), 0) FROM visit_hours WHERE domain = '' AND code = 'e2e-bots'),
			(SELECT coalesce(sum(bot_visits), 0) FROM visit_hours WHERE domain = '' AND code = 'e2e-bots')`).
			Scan(&visits, &bots, &hourVisits, &hourBots)
		if err != nil {
			return err.Error()
		}
		if visits != 3 || bots != 2 || hourVisits != 3 || hourBots != 2 {
			return fmt.Sprintf("url_stats %d visits, %d bots; visit_hours %d, %d; want 3 visits, 2 of them bots", visits, bots, hourVisits, hourBots)
		}
		return ""
	})
	eventually(t, "status.visits and botVisits", func() string {
		if st := shortLink(t, ns, "campaign").Status; st.Visits != 1 || st.BotVisits != 2 {
			return fmt.Sprintf("status.visits = %d, botVisits = %d; want 1, 2", st.Visits, st.BotVisits)
		}
		return ""
	})
	wide := kubectl(t, "", "-n", ns, "get", "shortlink", "campaign", "-o", "wide")
	if header, row, _ := strings.Cut(wide, "\n"); !strings.Contains(header, "VISITS   BOT VISITS") ||
		!strings.Contains(strings.Join(strings.Fields(row), " "), "True 1 2") {
		t.Errorf("kubectl get -o wide shows\n%s\nwant columns VISITS 1 and BOT VISITS 2", wide)
	}

	var series struct {
		Total    int64 `json:"total"`
		BotTotal int64 `json:"botTotal"`
	}
	from := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	status, body := apiGet(t, p, "/links/e2e-bots/visits?step=hour&from="+from)
	if err := json.Unmarshal(body, &series); err != nil || status != http.StatusOK || series.Total != 1 || series.BotTotal != 2 {
		t.Fatalf("visit series = %d %s (%v); want total 1, botTotal 2", status, body, err)
	}
}

// visit sends GET path to the redirector with headers h and returns the status code.
func visit(t *testing.T, p *devenv.Platform, path string, h http.Header) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.RedirectorAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host, req.Header = p.DefaultDomain(), h
	resp, err := http.DefaultTransport.RoundTrip(req) // the redirect itself, not its target
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// apiGet sends GET path to the create API with the platform's key.
func apiGet(t *testing.T, p *devenv.Platform, path string) (int, []byte) {
	t.Helper()
	return callAPI(t, http.MethodGet, p.APIURL()+path, p.APIKey(), "")
}
