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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TargetURL is where a link sends its visitors: an absolute http or https URL with a host.
// The API server enforces the rules below; the operator checks them again together with the
// URL policy (blocklist, homographs, loops), which needs configuration the API server lacks.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=2048
// +kubebuilder:validation:XValidation:rule=`isURL(self) && url(self).getScheme() in ['http', 'https']`,message="must be an absolute URL with scheme http or https"
// +kubebuilder:validation:XValidation:rule=`!isURL(self) || url(self).getHostname().size() > 0`,message="must have a host"
// +kubebuilder:validation:XValidation:rule=`bytes(self).size() <= 2048`,message="must be at most 2048 bytes"
// +kubebuilder:validation:XValidation:rule=`!self.matches(r'[\s\p{Z}\p{Cc}]')`,message="must not contain whitespace or control characters"
type TargetURL string

// ShortLinkSpec declares one short link. Every rule that needs no database is enforced here,
// by the API server.
// +kubebuilder:validation:XValidation:rule=`has(oldSelf.code) == has(self.code)`,message="code cannot be added or removed after creation"
// +kubebuilder:validation:XValidation:rule=`!has(self.validSince) || !has(self.validUntil) || self.validUntil > self.validSince`,message="validUntil must be after validSince",fieldPath=".validUntil"
type ShortLinkSpec struct {
	// code is the path the link answers on, as in https://<domain>/<code>.
	// When empty, metadata.name is the code. It cannot be changed after creation.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$')`,message="must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="code is immutable"
	Code string `json:"code,omitempty"`

	// domain is the host the link is served on: a lower-case host name without a port,
	// written in punycode for internationalised names, and one of the platform's served domains.
	// When empty, the link is served on the platform's default domain.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule=`!self.contains(':')`,message="must not include a port"
	// +kubebuilder:validation:XValidation:rule=`self == self.lowerAscii()`,message="must be lower case"
	// +kubebuilder:validation:XValidation:rule=`self.contains(':') || self != self.lowerAscii() || self.matches(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')`,message="must be a DNS host name"
	Domain string `json:"domain,omitempty"`

	// target is where the link redirects: an absolute http or https URL with a host, at most
	// 2048 bytes, without whitespace or control characters. Unicode hosts are stored as punycode.
	// +required
	Target TargetURL `json:"target"`

	// redirectType is the HTTP status of the redirect: 301 and 308 are permanent and may be
	// cached by browsers; 302 and 307 are not, so every click is counted.
	// +optional
	// +kubebuilder:default=302
	// +kubebuilder:validation:Enum=301;302;307;308
	RedirectType int32 `json:"redirectType,omitempty"`

	// forwardQuery appends the request's query string to the target, with '&' when the target
	// already has a query, before any #fragment.
	// +optional
	ForwardQuery bool `json:"forwardQuery,omitempty"`

	// forwardPath sends /{code}/rest/of/path to the target with /rest/of/path appended to its
	// path (go-link style), before the target's query; combined with forwardQuery, the request's
	// query follows. Without it such a path answers 404. A link with forwardPath cannot have the
	// code "api": /api/v1/ is the create API.
	// +optional
	ForwardPath bool `json:"forwardPath,omitempty"`

	// validSince is when the link starts to redirect; before it the link answers 404.
	// +optional
	ValidSince *metav1.Time `json:"validSince,omitempty"`

	// validUntil is when the link stops redirecting to target; after it the link answers
	// 410 Gone, or redirects to expiredTarget when that is set. It must be after validSince.
	// +optional
	ValidUntil *metav1.Time `json:"validUntil,omitempty"`

	// expiredTarget is where the link redirects after validUntil, under the same rules as target.
	// +optional
	ExpiredTarget TargetURL `json:"expiredTarget,omitempty"`

	// maxVisits, when set, is how many people's visits the link redirects to target; after
	// them it answers as an expired link does: a redirect to expiredTarget, else 410 Gone.
	// Programs' visits (crawlers, link previews, prefetches) never use it up. Every replica
	// shares one count in Redis; while Redis is down each replica counts alone, so the link can
	// serve more (see docs/operations.md). Unset means no limit.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MaxVisits *int64 `json:"maxVisits,omitempty"`

	// suspend makes the link answer 404 without deleting anything.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// tags label the link for people and for listing; at most 16, each at most 63 characters.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	Tags []string `json:"tags,omitempty"`
}

// Condition types and reasons a ShortLink reports.
const (
	// ConditionReady is True when the link is in PostgreSQL and serves redirects.
	ConditionReady = "Ready"
	// ConditionCached is False while Redis cannot be written; redirects still work.
	ConditionCached = "Cached"
	// ConditionReconciling is True while the link waits on PostgreSQL and will be retried;
	// kstatus (Flux, kpt) reads it as InProgress. Present only when True.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True while the spec is refused or in CodeConflict, which only a
	// change elsewhere can end; kstatus reads it as Failed. Present only when True.
	ConditionStalled = "Stalled"

	ReasonSynced              = "Synced"
	ReasonCodeConflict        = "CodeConflict"
	ReasonInvalidTarget       = "InvalidTarget"
	ReasonBlocked             = "Blocked"
	ReasonDatabaseUnavailable = "DatabaseUnavailable"
	ReasonCacheUnavailable    = "CacheUnavailable"
)

// ShortLinkStatus is what the operator observed of a ShortLink. The reconciler writes the
// conditions, code and url; only the leader's visits rollup writes visits and lastVisitTime.
type ShortLinkStatus struct {
	// observedGeneration is the generation of the spec that the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions are Ready (reasons Synced, CodeConflict, InvalidTarget, Blocked,
	// DatabaseUnavailable), Cached, and, for kstatus, Reconciling and Stalled (each
	// present only when True, with the reason and message of Ready).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// code is the effective code: spec.code, or metadata.name when that is empty.
	// +optional
	Code string `json:"code,omitempty"`

	// url is the full short URL.
	// +optional
	URL string `json:"url,omitempty"`

	// visits is the number of people's visits counted for this link while it held its code:
	// redirects to crawlers, link-preview fetchers, headless browsers, scripts and prefetches
	// are counted in botVisits instead.
	// +optional
	Visits int64 `json:"visits,omitempty"`

	// botVisits is the number of programs' visits counted for this link while it held its
	// code: crawlers, link-preview fetchers, headless browsers, scripts and prefetches.
	// +optional
	BotVisits int64 `json:"botVisits,omitempty"`

	// lastVisitTime is when the latest counted visit happened, a person's or a program's.
	// +optional
	LastVisitTime *metav1.Time `json:"lastVisitTime,omitempty"`
}

// ShortLink declares a short URL: https://<domain>/<code> redirects to spec.target.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=shortlinks,scope=Namespaced,shortName=sl,categories=shortlink
// +kubebuilder:printcolumn:name="Code",type=string,JSONPath=`.status.code`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.target`
// +kubebuilder:printcolumn:name="Type",type=integer,JSONPath=`.spec.redirectType`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Visits",type=integer,JSONPath=`.status.visits`,description="People's visits"
// +kubebuilder:printcolumn:name="Bot Visits",type=integer,JSONPath=`.status.botVisits`,priority=1,description="Visits of crawlers, link previews, headless browsers, scripts and prefetches"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule=`has(self.spec.code) || self.metadata.name.matches('^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$')`,message="metadata.name must be a valid code (1 to 64 letters, digits, '-' or '_') when spec.code is not set"
// +kubebuilder:validation:XValidation:rule=`!has(self.spec.forwardPath) || !self.spec.forwardPath || (has(self.spec.code) ? self.spec.code : self.metadata.name) != 'api'`,message="a link with forwardPath cannot have the code api: /api/v1/ is the create API",fieldPath=".spec.forwardPath"
type ShortLink struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the link.
	// +required
	Spec ShortLinkSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status ShortLinkStatus `json:"status,omitempty"`
}

// ShortLinkList contains a list of ShortLink.
// +kubebuilder:object:root=true
type ShortLinkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ShortLink `json:"items"`
}
