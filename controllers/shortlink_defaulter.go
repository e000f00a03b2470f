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

package controllers

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// FinalizerWebhookPath is where the manager's webhook server answers the mutating reviews of
// new ShortLinks; the chart's and config/webhook's MutatingWebhookConfiguration call it.
const FinalizerWebhookPath = "/mutate-links-shortlink-dev-v1alpha1-shortlink"

// The mutating webhook puts the operator's finalizer on a ShortLink as it is created, so the
// reconciler's first sync writes only the status: one API write a new link instead of two,
// where the API server is what limits how fast thousands of applied links converge
// (docs/benchmarks.md, "Operator"). It is a saving, not a rule: the configuration fails open,
// and the reconciler still adds the finalizer to a link created while no replica answered.

// NewFinalizerWebhook returns the handler to register at FinalizerWebhookPath. It reads
// nothing but the object under review, so it answers the same on every replica.
func NewFinalizerWebhook() *webhook.Admission {
	return &webhook.Admission{Handler: finalizerDefaulter{}}
}

type finalizerDefaulter struct{}

// Handle adds the finalizer to a ShortLink being created; anything else passes unchanged. It
// decodes only metadata: the spec is not its business, and the patch it returns touches only
// metadata.finalizers.
func (finalizerDefaulter) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	var obj struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	finalizers := obj.Metadata.Finalizers
	switch {
	case slices.Contains(finalizers, finalizerName):
		return admission.Allowed("")
	case len(finalizers) == 0:
		return admission.Patched("", jsonpatch.NewOperation("add", "/metadata/finalizers", []string{finalizerName}))
	default:
		return admission.Patched("", jsonpatch.NewOperation("add", "/metadata/finalizers/-", finalizerName))
	}
}
