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

package redirect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/shortlink-dev/shortlink/internal/links"
)

// QR image sizes, in pixels a side. The bound keeps one request's work small (a 1024-pixel PNG
// takes a few milliseconds); a size too small for the symbol is enlarged to one pixel a module.
const (
	QRDefaultSize = 256
	QRMinSize     = 64
	QRMaxSize     = 1024
)

// qrCacheControl lets browsers and CDNs keep an image for a day: it depends only on the short
// URL, the format and the size, which the ETag names, so a changed target changes nothing in it.
const qrCacheControl = "public, max-age=86400"

const (
	formatPNG = "png"
	formatSVG = "svg"
)

// qrRequest is what a QR request asks for.
type qrRequest struct {
	format string
	size   int
}

// qr answers GET /_/qr/{code}: an image of the code's short URL with the scan marker, for any
// link that exists and is not suspended (a link not valid yet gets one, so a campaign can print
// it ahead). It records no visit: the image is not a click.
func (s *server) qr(w http.ResponseWriter, r *http.Request) error {
	domain, ok := s.servedDomain(r.Host)
	if !ok {
		return &jsonError{status: http.StatusNotFound, field: "host", msg: "host not served"}
	}
	req, err := parseQRRequest(r)
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	if err := s.qrLink(r, domain, code); err != nil {
		return err
	}
	content := s.site.ShortURL(domain, code) + "?" + scanMarker
	etag := qrETag(content, req)
	h := w.Header()
	h[hdrCacheControl] = []string{qrCacheControl}
	h["Etag"] = []string{etag}
	h["Vary"] = []string{"Accept"}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body, contentType, err := renderQR(content, req)
	if err != nil {
		return err
	}
	h[hdrContentType] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	_, err = w.Write(body) //nolint:gosec // an image drawn here: PNG bytes, or SVG made of numbers only

	return err
}

// qrLink returns nil when code names a link a QR code may be made for, else why not.
func (s *server) qrLink(r *http.Request, domain, code string) error {
	notFound := &jsonError{status: http.StatusNotFound, field: "code", msg: "no such link"}
	if !links.ValidCode(code) {
		return notFound
	}
	l, err := s.links.Resolve(r.Context(), domain, code)
	if errors.Is(err, links.ErrNotFound) || (err == nil && l.Suspended) {
		return notFound
	}
	return err
}

// parseQRRequest reads the format (?format=, else the Accept header, else PNG) and the size.
func parseQRRequest(r *http.Request) (qrRequest, error) {
	q := r.URL.Query()
	req := qrRequest{format: formatPNG, size: QRDefaultSize}
	switch f := q.Get("format"); f {
	case formatPNG, formatSVG:
		req.format = f
	case "":
		if acceptsOnlySVG(r.Header.Get("Accept")) {
			req.format = formatSVG
		}
	default:
		return req, &jsonError{status: http.StatusBadRequest, field: "format", msg: `must be "png" or "svg"`}
	}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < QRMinSize || n > QRMaxSize {
			return req, &jsonError{status: http.StatusBadRequest, field: "size",
				msg: fmt.Sprintf("must be a whole number of pixels from %d to %d", QRMinSize, QRMaxSize)}
		}
		req.size = n
	}
	return req, nil
}

// acceptsOnlySVG reports whether an Accept header asks for SVG and not PNG: a browser's
// "image/*" or "*/*" gets the default PNG.
func acceptsOnlySVG(accept string) bool {
	return strings.Contains(accept, "image/svg+xml") && !strings.Contains(accept, "image/png")
}

// qrETag names an image by what it is drawn from.
func qrETag(content string, req qrRequest) string {
	sum := sha256.Sum256([]byte(req.format + "\x00" + strconv.Itoa(req.size) + "\x00" + content))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// etagMatches reports whether an If-None-Match header names etag (or is "*").
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// renderQR draws content at medium error correction (15% of the symbol may be damaged).
func renderQR(content string, req qrRequest) ([]byte, string, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, "", fmt.Errorf("encode QR code: %w", err)
	}
	if req.format == formatSVG {
		return svgQR(q.Bitmap(), req.size), "image/svg+xml", nil
	}
	png, err := q.PNG(req.size)
	if err != nil {
		return nil, "", fmt.Errorf("draw QR code: %w", err)
	}
	return png, "image/png", nil
}

// svgQR draws a bitmap (quiet zone included) as one path of a rectangle per run of dark
// modules in a row, scaled to size pixels by the viewBox: a few kilobytes for any short URL.
func svgQR(bitmap [][]bool, size int) []byte {
	n := len(bitmap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bitmap {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}
