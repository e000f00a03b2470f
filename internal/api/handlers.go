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

package api

import (
	"net/http"
	"net/url"

	"github.com/shortlink-dev/shortlink/internal/links"
	"github.com/shortlink-dev/shortlink/internal/store"
)

// placeholderCode stands in for a code still to be generated while the rest is checked.
const placeholderCode = "0"

func (s *server) create(w http.ResponseWriter, r *http.Request) error {
	req, err := DecodeLinkRequest(r.Body)
	if err != nil {
		return err
	}
	l, err := s.newLink(r, req)
	if err != nil {
		return err
	}
	var row store.Row
	if l.Code != "" {
		row, err = s.store.CreateAPILink(r.Context(), l)
	} else {
		row, err = s.store.CreateGeneratedAPILink(r.Context(), l, s.codec.Encode)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.apiPath(row.Domain, row.Code))
	writeJSON(w, http.StatusCreated, s.response(row, nil))
	return nil
}

// newLink checks a create request against the link rules and returns its link, with an empty
// Code when the code is to be generated.
func (s *server) newLink(r *http.Request, req LinkRequest) (links.Link, error) {
	if !req.Target.Set || req.Target.Null {
		return links.Link{}, badField("target", "is required")
	}
	domain, err := s.domain(r, req.Domain)
	if err != nil {
		return links.Link{}, err
	}
	custom := req.Code.Set && !req.Code.Null && req.Code.V != ""
	l := links.Link{Domain: domain, Code: placeholderCode, Source: links.SourceAPI, Owner: caller(r.Context()).name}
	if custom {
		l.Code = req.Code.V
	}
	if l, err = s.apply(l, req); err != nil {
		return links.Link{}, err
	}
	if !custom {
		l.Code = ""
	}
	return l, nil
}

func (s *server) get(w http.ResponseWriter, r *http.Request) error {
	domain, code, err := s.key(r)
	if err != nil {
		return err
	}
	row, visits, err := s.readable(r, domain, code)
	if err != nil {
		return err
	}
	out := s.response(row, &visits.Visits)
	out.BotVisits = &visits.BotVisits
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) update(w http.ResponseWriter, r *http.Request) error {
	domain, code, err := s.key(r)
	if err != nil {
		return err
	}
	req, err := DecodeLinkRequest(r.Body)
	if err != nil {
		return err
	}
	if req.Code.Set {
		return badField(fieldCode, "cannot be changed; create a new link")
	}
	if req.Domain.Set {
		return badField("domain", "cannot be changed; create a new link (select a link's domain with ?domain=)")
	}
	row, err := s.store.PatchAPILink(r.Context(), domain, code, caller(r.Context()).ownedBy(), func(l links.Link) (links.Link, error) {
		return s.apply(l, req)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.response(row, nil))
	return nil
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) error {
	domain, code, err := s.key(r)
	if err != nil {
		return err
	}
	if _, err := s.store.DeleteAPILink(r.Context(), domain, code, caller(r.Context()).ownedBy()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readable returns the live link (domain, code) with its visits, when the request's key may
// read it; another key's API link is not found, as if it did not exist.
func (s *server) readable(r *http.Request, domain, code string) (store.Row, store.LinkVisits, error) {
	row, visits, err := s.store.GetWithVisits(r.Context(), domain, code)
	if err != nil {
		return store.Row{}, store.LinkVisits{}, err
	}
	if !caller(r.Context()).mayRead(row) {
		return store.Row{}, store.LinkVisits{}, links.ErrNotFound
	}
	return row, visits, nil
}

// key returns the stored domain and the code a request names; a code that cannot exist is
// not found.
func (s *server) key(r *http.Request) (string, string, error) {
	code := r.PathValue("code")
	if !links.ValidCode(code) {
		return "", "", links.ErrNotFound
	}
	domain, err := s.domain(r, optional[string]{})
	return domain, code, err
}

// domain returns the stored domain a request asks for: the body's domain field, else the
// domain query parameter, else the default domain, which is stored as "".
// A key limited to some domains answers 403 for another served one.
func (s *server) domain(r *http.Request, field optional[string]) (string, error) {
	d := field.V
	if !field.Set || field.Null {
		d = r.URL.Query().Get("domain")
	}
	if d == "" {
		return "", allowDomain(r.Context(), s.site.DefaultDomain())
	}
	n, err := links.NormalizeDomain(d)
	if err != nil {
		return "", links.WithField(err, "domain")
	}
	if s.site.StoredDomain(n) == "" {
		return "", allowDomain(r.Context(), n)
	}
	if err := s.policy().CheckDomain(n); err != nil {
		return "", links.WithField(err, "domain")
	}
	return n, allowDomain(r.Context(), n)
}

func (s *server) apiPath(domain, code string) string {
	p := "/api/v1/links/" + code
	if domain != "" {
		p += "?domain=" + url.QueryEscape(domain)
	}
	return p
}

func (s *server) shortURL(domain, code string) string { return s.site.ShortURL(domain, code) }
