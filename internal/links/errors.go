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

package links

import "errors"

// Sentinel errors classify every refusal, so the reconciler can pick a condition reason and the
// API an HTTP status with errors.Is, without parsing messages.
var (
	// ErrNotFound is what stores and caches return for an unknown (domain, code), so the
	// redirector's tiers agree on a miss without knowing each other's errors.
	ErrNotFound = errors.New("link not found")
	// ErrInvalidCode marks a short code that breaks CodePattern or that a Codec did not produce.
	ErrInvalidCode = errors.New("invalid code")
	// ErrInvalidDomain marks a domain that is not a valid host name.
	ErrInvalidDomain = errors.New("invalid domain")
	// ErrInvalidTarget marks a target that is not an acceptable URL: malformed, not http(s),
	// with user-info, or with a homograph host (mixed scripts, or a whole-script confusable).
	ErrInvalidTarget = errors.New("invalid target")
	// ErrInvalidLink marks the other fields of a Link: redirect type, validity window, tags,
	// source or owner.
	ErrInvalidLink = errors.New("invalid link")
	// ErrBlocked marks a valid target that policy refuses: a blocklisted host or one of our own
	// served domains (a redirect loop).
	ErrBlocked = errors.New("target blocked")
)

// FieldError says which field was refused and why, in words fit to show a user (a condition
// message, an API error body). Err is the sentinel class, reachable with errors.Is.
type FieldError struct {
	// Field is the name of the refused field as users write it, e.g. "target" or "expiredTarget".
	Field string
	// Reason is a lower-case phrase completing the field name, e.g. "must use http or https".
	Reason string
	// Err is one of the sentinel errors of this package.
	Err error
}

// Error returns "field: reason", e.g. "target: must use http or https".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the sentinel class so errors.Is(err, ErrInvalidTarget) works.
func (e *FieldError) Unwrap() error { return e.Err }

// WithField returns err naming field instead, when err is a *FieldError; any other error is
// returned as it is. It lets one validator serve several fields: NormalizeTarget reports
// "target", and the caller checking spec.expiredTarget renames it.
func WithField(err error, field string) error {
	fe, ok := err.(*FieldError)
	if !ok {
		return err
	}
	renamed := *fe
	renamed.Field = field
	return &renamed
}

func invalidTarget(reason string) error {
	return &FieldError{Field: "target", Reason: reason, Err: ErrInvalidTarget}
}

func invalidLink(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Err: ErrInvalidLink}
}
