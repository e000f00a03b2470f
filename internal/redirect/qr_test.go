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
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/shortlink-dev/shortlink/internal/redirect"
)

// qrGet sends GET target to h on host with the given headers (name, value pairs).
func qrGet(h http.Handler, host, target string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decodeQR reads the text of the QR code in img with an independent decoder.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	return res.GetText()
}

var svgRun = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)
var svgViewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)

// rasterizeSVG draws the dark runs of the redirector's SVG at 4 pixels a module, so the
// decoder reads what an SVG renderer would show.
func rasterizeSVG(t *testing.T, svg string) image.Image {
	t.Helper()
	vb := svgViewBox.FindStringSubmatch(svg)
	if vb == nil {
		t.Fatalf("SVG without a viewBox: %.200s", svg)
	}
	n, _ := strconv.Atoi(vb[1])
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, m := range svgRun.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return img
}

// TestQRCodeEncodesTheShortURLWithTheScanMarker decodes the PNG and the SVG: each holds the
// link's short URL on its own domain with ?_qr=1, and serving them counts no visit.
func TestQRCodeEncodesTheShortURLWithTheScanMarker(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("plain", "https://example.com/plain"))
	docs := link("docs", "https://docs.example.com/")
	docs.Domain = otherHost
	f.declare(docs)
	later := link("later", "https://example.com/later")
	later.ValidSince = f.now.Add(24 * 3600e9)
	f.declare(later)
	h := f.server(f.resolver(redirect.Options{}, true, nil), redirect.Config{})

	cases := []struct {
		name, host, target string
		headers            []string
		wantType, wantText string
		wantSize           int
	}{
		{"PNG by default", testHost, "/_/qr/plain", nil, "image/png", "https://sho.rt/plain?_qr=1", redirect.QRDefaultSize},
		{"PNG of a size", testHost, "/_/qr/plain?size=400", nil, "image/png", "https://sho.rt/plain?_qr=1", 400},
		{"the link's own domain", otherHost, "/_/qr/docs", nil, "image/png", "https://go.example.com/docs?_qr=1", redirect.QRDefaultSize},
		{"a link not valid yet can be printed ahead", testHost, "/_/qr/later", nil, "image/png", "https://sho.rt/later?_qr=1", redirect.QRDefaultSize},
		{"SVG by parameter", testHost, "/_/qr/plain?format=svg", nil, "image/svg+xml", "https://sho.rt/plain?_qr=1", 0},
		{"SVG by Accept", testHost, "/_/qr/plain", []string{"Accept", "image/svg+xml"}, "image/svg+xml", "https://sho.rt/plain?_qr=1", 0},
		{"a browser's Accept gets PNG", testHost, "/_/qr/plain", []string{"Accept", "image/avif,image/webp,image/png,image/svg+xml,*/*"}, "image/png", "https://sho.rt/plain?_qr=1", redirect.QRDefaultSize},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rec := qrGet(h, tt.host, tt.target, tt.headers...)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tt.wantType {
				t.Fatalf("GET %s = %d %q, want 200 %s: %s", tt.target, rec.Code, rec.Header().Get("Content-Type"), tt.wantType, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=86400" || rec.Header().Get("ETag") == "" {
				t.Fatalf("Cache-Control %q, ETag %q; want cacheable with an ETag", cc, rec.Header().Get("ETag"))
			}
			var img image.Image
			if tt.wantType == "image/png" {
				var err error
				if img, err = png.Decode(rec.Body); err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != tt.wantSize || b.Dy() != tt.wantSize {
					t.Fatalf("image is %v, want %d pixels a side", b, tt.wantSize)
				}
			} else {
				img = rasterizeSVG(t, rec.Body.String())
			}
			if got := decodeQR(t, img); got != tt.wantText {
				t.Fatalf("QR code holds %q, want %q", got, tt.wantText)
			}
		})
	}
	if n := f.visits.count(); n != 0 {
		t.Fatalf("serving QR codes recorded %d visits, want none", n)
	}
	if n := f.metric("shortlink_redirect_requests_total", map[string]string{"result": "redirect"}); n != 0 {
		t.Fatalf("serving QR codes counted %v redirects, want none", n)
	}
}

// TestQRCodeCaching: the ETag names the image, so a client holding it gets 304, and another
// size or format is another ETag.
func TestQRCodeCaching(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("plain", "https://example.com/plain"))
	h := f.server(f.resolver(redirect.Options{}, true, nil), redirect.Config{})
	first := qrGet(h, testHost, "/_/qr/plain")
	etag := first.Header().Get("ETag")
	again := qrGet(h, testHost, "/_/qr/plain", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 || again.Header().Get("ETag") != etag {
		t.Fatalf("GET with If-None-Match %s = %d, %d bytes, ETag %q; want 304 without a body", etag, again.Code, again.Body.Len(), again.Header().Get("ETag"))
	}
	for _, other := range []string{"/_/qr/plain?size=512", "/_/qr/plain?format=svg"} {
		if rec := qrGet(h, testHost, other, "If-None-Match", etag); rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag {
			t.Fatalf("GET %s with the default's ETag = %d, ETag %q; want 200 and another ETag", other, rec.Code, rec.Header().Get("ETag"))
		}
	}
}

// TestQRCodeRefusals: an unknown or suspended code is 404, bad parameters 400, each with a
// JSON error naming the field; nothing is drawn for them.
func TestQRCodeRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("plain", "https://example.com/plain"))
	suspended := link("suspended", "https://example.com/s")
	suspended.Suspended = true
	f.declare(suspended)
	h := f.server(f.resolver(redirect.Options{}, true, nil), redirect.Config{})
	cases := []struct {
		name, host, target string
		wantStatus         int
		wantField          string
	}{
		{"unknown code", testHost, "/_/qr/nope", 404, "code"},
		{"suspended link", testHost, "/_/qr/suspended", 404, "code"},
		{"invalid code", testHost, "/_/qr/a.b", 404, "code"},
		{"code of another domain", otherHost, "/_/qr/plain", 404, "code"},
		{"unknown host", "evil.example", "/_/qr/plain", 404, "host"},
		{"size too large", testHost, "/_/qr/plain?size=" + strconv.Itoa(redirect.QRMaxSize+1), 400, "size"},
		{"size too small", testHost, "/_/qr/plain?size=10", 400, "size"},
		{"size not a number", testHost, "/_/qr/plain?size=big", 400, "size"},
		{"unknown format", testHost, "/_/qr/plain?format=gif", 400, "format"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rec := qrGet(h, tt.host, tt.target)
			var body struct{ Error, Field string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != tt.wantStatus ||
				body.Field != tt.wantField || body.Error == "" || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("GET %s%s = %d %q %s; want %d naming %s", tt.host, tt.target, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tt.wantStatus, tt.wantField)
			}
		})
	}
}

// TestQRScanCountsAVisitAndAScan: following the QR code is a visit like a click (the visit
// tables keep their meaning) and is also counted in shortlink_qr_scans_total; a click is not a
// scan, nor is a HEAD.
func TestQRScanCountsAVisitAndAScan(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.declare(link("plain", "https://example.com/plain"))
	h := f.server(f.resolver(redirect.Options{}, true, nil), redirect.Config{})
	scans := func(result string) float64 {
		return f.metric("shortlink_qr_scans_total", map[string]string{"result": result})
	}
	if rec := get(h, "GET", testHost, "/plain"); rec.Code != http.StatusFound {
		t.Fatalf("click = %d", rec.Code)
	}
	if rec := get(h, "HEAD", testHost, "/plain?_qr=1"); rec.Code != http.StatusFound {
		t.Fatalf("HEAD scan = %d", rec.Code)
	}
	if n := scans("redirect"); n != 0 {
		t.Fatalf("a click and a HEAD counted %v scans, want 0", n)
	}
	rec := get(h, "GET", testHost, "/plain?_qr=1")
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://example.com/plain" {
		t.Fatalf("scan = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if n := scans("redirect"); n != 1 {
		t.Fatalf("scans{redirect} = %v, want 1", n)
	}
	if n := f.visits.count(); n != 2 {
		t.Fatalf("visits = %d, want 2 (the click and the scan)", n)
	}
	if rec := get(h, "GET", testHost, "/nope?_qr=1"); rec.Code != http.StatusNotFound || scans("not_found") != 1 {
		t.Fatalf("scan of an unknown code = %d, scans{not_found} = %v; want 404 and 1", rec.Code, scans("not_found"))
	}
}
