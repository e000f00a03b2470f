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

// Package v1alpha1 holds the ShortLink and ShortLinkDomain API types of the links.shortlink.dev group.
// It holds types and validation markers only: no logic, no I/O.
// +kubebuilder:object:generate=true
// +groupName=links.shortlink.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the ShortLink API.
	GroupVersion = schema.GroupVersion{Group: "links.shortlink.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group-version; it has no init side effects.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &ShortLink{}, &ShortLinkList{}, &ShortLinkDomain{}, &ShortLinkDomainList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
