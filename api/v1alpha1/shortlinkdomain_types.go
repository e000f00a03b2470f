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

// NamespacesFrom says which namespaces may publish links on a domain, as Gateway API's
// allowedRoutes.namespaces.from does.
// +kubebuilder:validation:Enum=All;Selector
type NamespacesFrom string

const (
	// NamespacesFromAll admits every namespace.
	NamespacesFromAll NamespacesFrom = "All"
	// NamespacesFromSelector admits the namespaces whose labels match the selector.
	NamespacesFromSelector NamespacesFrom = "Selector"
)

// AllowedNamespaces says which namespaces may publish links on a domain.
// +kubebuilder:validation:XValidation:rule=`self.from != 'Selector' || has(self.selector)`,message="selector is required when from is Selector",fieldPath=".selector"
// +kubebuilder:validation:XValidation:rule=`self.from == 'Selector' || !has(self.selector)`,message="selector is allowed only when from is Selector",fieldPath=".selector"
type AllowedNamespaces struct {
	// from is All (every namespace, the default) or Selector (the namespaces whose labels
	// match selector).
	// +optional
	// +kubebuilder:default=All
	From NamespacesFrom `json:"from,omitempty"`

	// selector picks the namespaces by their labels when from is Selector.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// CodeRule constrains the codes of the links that some namespaces publish on a domain.
type CodeRule struct {
	// namespaceSelector picks the namespaces the rule applies to by their labels; an empty
	// selector ({}) applies it to every namespace.
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// prefix is what every code from those namespaces must start with, such as "team-a-", so
	// that one team cannot take another's or the platform's codes (/login).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[A-Za-z0-9][A-Za-z0-9_-]*$')`,message="prefix must be letters, digits, '-' or '_', starting with a letter or digit"
	Prefix string `json:"prefix"`
}

// RedirectURL is where a domain sends a request it has no link for: an absolute http or https
// URL with a host.
// +kubebuilder:validation:MaxLength=2048
// +kubebuilder:validation:XValidation:rule=`isURL(self) && url(self).getScheme() in ['http', 'https']`,message="must be an absolute URL with scheme http or https"
// +kubebuilder:validation:XValidation:rule=`!isURL(self) || url(self).getHostname().size() > 0`,message="must have a host"
// +kubebuilder:validation:XValidation:rule=`!self.matches(r'[\s\p{Z}\p{Cc}]')`,message="must not contain whitespace or control characters"
type RedirectURL string

// ShortLinkDomainSpec declares one served host and the rules of publishing on it.
type ShortLinkDomainSpec struct {
	// host is the served host name: lower case, no port, punycode for internationalised names.
	// Links with spec.domain set to it (or, for the platform's default domain, without
	// spec.domain) are governed by this object. It cannot be changed after creation.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule=`!self.contains(':')`,message="host must not include a port"
	// +kubebuilder:validation:XValidation:rule=`self == self.lowerAscii()`,message="host must be lower case"
	// +kubebuilder:validation:XValidation:rule=`self.contains(':') || self != self.lowerAscii() || self.matches(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')`,message="host must be a DNS host name"
	// +kubebuilder:validation:XValidation:rule=`self == oldSelf`,message="host is immutable"
	Host string `json:"host"`

	// allowedNamespaces says which namespaces may publish links on the host; when unset,
	// every namespace may (from: All).
	// +optional
	AllowedNamespaces *AllowedNamespaces `json:"allowedNamespaces,omitempty"`

	// codeRules constrain the codes of the namespaces each rule selects: a link from a
	// namespace that one or more rules select must have a code starting with one of their
	// prefixes. A namespace no rule selects may use any code.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	CodeRules []CodeRule `json:"codeRules,omitempty"`

	// notFoundRedirect is where an unknown, suspended or not-yet-valid code on this host
	// redirects (302); when unset such a code answers 404, or the redirector's --not-found-url.
	// +optional
	NotFoundRedirect RedirectURL `json:"notFoundRedirect,omitempty"`

	// rootRedirect is where the bare host (/) redirects (302); when unset it answers 404.
	// +optional
	RootRedirect RedirectURL `json:"rootRedirect,omitempty"`

	// robotsTxt is served at /robots.txt on this host. When unset the redirectors serve
	// "User-agent: *" and "Disallow: /", so crawlers do not walk the codes.
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	RobotsTxt *string `json:"robotsTxt,omitempty"`
}

// Condition reasons a ShortLinkDomain reports, besides ReasonSynced and
// ReasonDatabaseUnavailable; and the Ready reason of a ShortLink a domain refuses.
const (
	// ReasonHostConflict: an older ShortLinkDomain declares the same host and governs it.
	ReasonHostConflict = "HostConflict"
	// ReasonNotAllowed: the link's namespace may not publish on its domain, or its code
	// breaks the domain's code rules.
	ReasonNotAllowed = "NotAllowed"
)

// ShortLinkDomainStatus is what the operator observed of a ShortLinkDomain.
type ShortLinkDomainStatus struct {
	// observedGeneration is the generation of the spec that the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions holds Ready: True (reason Synced) once the redirectors can learn the host
	// from PostgreSQL; False with HostConflict (an older object declares the host) or
	// DatabaseUnavailable. For kstatus, Reconciling (while DatabaseUnavailable) and Stalled
	// (HostConflict) carry Ready's reason and message, each present only when True.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// links is the number of ShortLinks on the host that are Ready.
	// +optional
	Links int32 `json:"links"`

	// conflicts is the number of ShortLinks on the host that wait in CodeConflict.
	// +optional
	Conflicts int32 `json:"conflicts"`

	// refused is the number of ShortLinks on the host that its rules refuse (NotAllowed).
	// +optional
	Refused int32 `json:"refused"`
}

// ShortLinkDomain declares a host the platform serves and which namespaces may publish links
// on it, as a Gateway API listener's allowedRoutes delegates routes. It is not in the shortlink
// category: `kubectl patch shortlink NAME` resolves "shortlink" as that category first, and
// must keep naming one kind.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=shortlinkdomains,scope=Cluster,shortName=sld
// +kubebuilder:printcolumn:name="Host",type=string,JSONPath=`.spec.host`
// +kubebuilder:printcolumn:name="From",type=string,JSONPath=`.spec.allowedNamespaces.from`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Links",type=integer,JSONPath=`.status.links`
// +kubebuilder:printcolumn:name="Conflicts",type=integer,JSONPath=`.status.conflicts`
// +kubebuilder:printcolumn:name="Refused",type=integer,JSONPath=`.status.refused`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ShortLinkDomain struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec declares the host and its rules.
	// +required
	Spec ShortLinkDomainSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status ShortLinkDomainStatus `json:"status,omitempty"`
}

// ShortLinkDomainList contains a list of ShortLinkDomain.
// +kubebuilder:object:root=true
type ShortLinkDomainList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ShortLinkDomain `json:"items"`
}
