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
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestForwardPathAndQRCode follows issue 18's items 3 and 5 through the whole platform: a
// ShortLink with forwardPath, synced by the manager, forwards /{code}/rest; its QR code, read
// back by a decoder, leads to the scan URL; the image counts no visit and the scan counts one,
// and shows in shortlink_qr_scans_total.
func TestForwardPathAndQRCode(t *testing.T) {
	stack(t)
	logsOnFailure(t)
	ns := namespace(t, "e2e-campaign")
	kubectl(t, fmt.Sprintf(`apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata:
  name: golink
  namespace: %s
spec:
  code: e2e-go
  target: https://docs.example.com/guide?lang=en
  forwardPath: true
  forwardQuery: true
`, ns), "apply", "-f", "-")
	waitFor(t, "e2e-go/install/helm?v=2", http.StatusFound, "https://docs.example.com/guide/install/helm?lang=en&v=2")
	var forwardPath bool
	if err := db.QueryRow(context.Background(), `SELECT forward_path FROM urls WHERE domain = '' AND code = 'e2e-go'`).Scan(&forwardPath); err != nil || !forwardPath {
		t.Fatalf("urls.forward_path of e2e-go = %v, %v; want true", forwardPath, err)
	}

	text := fetchQRCode(t, "/_/qr/e2e-go")
	if !strings.HasSuffix(text, "/e2e-go?_qr=1") {
		t.Fatalf("QR code holds %q, want the short URL of e2e-go with ?_qr=1", text)
	}
	status, loc, err := platform.Request(context.Background(), http.MethodGet, platform.DefaultDomain(), "/e2e-go?_qr=1")
	if err != nil || status != http.StatusFound || loc != "https://docs.example.com/guide?lang=en" {
		t.Fatalf("scan = %d %q, %v; want the target without the marker", status, loc, err)
	}
	eventually(t, "the scan in url_stats", func() string {
		if n := storedVisits(t, "e2e-go"); n != 1 {
			return fmt.Sprintf("url_stats holds %d visits, want 1 (the scan, not the image)", n)
		}
		return ""
	})
	metrics := httpGet(t, "http://"+platform.RedirectorMetricsAddr+"/metrics")
	if !strings.Contains(metrics, `shortlink_qr_scans_total{result="redirect"} 1`) {
		t.Fatalf("metrics lack one redirected scan:\n%s", grepLines(metrics, "shortlink_qr_scans_total"))
	}
}

// fetchQRCode gets a PNG QR code from the redirector and decodes it.
func fetchQRCode(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+platform.RedirectorAddr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = platform.DefaultDomain()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d %q: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the QR code of %s: %v", path, err)
	}
	return res.GetText()
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url) //nolint:noctx // a test's one-off read
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
