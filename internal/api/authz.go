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
	"context"
	"net/http"
)

type grantKey struct{}

// authorize runs h only for a key allowed op, with its grant in the request's context for the
// domain check (see domain).
func (s *server) authorize(op string, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		g, ok := s.keys.grant(r)
		if !ok {
			return errUnauthorized
		}
		if !g.allowsOp(op) {
			return &forbiddenError{Reason: "the API key is not allowed to " + op + " links"}
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), grantKey{}, g)))
	}
}

// allowDomain refuses a domain (a served host, by name) the request's key may not act on.
func allowDomain(ctx context.Context, host string) error {
	if g, ok := ctx.Value(grantKey{}).(*grant); ok && g.allowsDomain(host) {
		return nil
	}
	return &forbiddenError{Reason: "the API key is not allowed to act on domain " + host, Field: "domain"}
}

// caller is the grant of the key that sent the request (authorize put it in the context).
func caller(ctx context.Context) *grant {
	g, _ := ctx.Value(grantKey{}).(*grant)
	if g == nil {
		return &grant{name: "\x00none"} // unreachable behind authorize; owns nothing
	}
	return g
}
