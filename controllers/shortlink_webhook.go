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
	"errors"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/links"
)

// WebhookPath is where the manager's webhook server answers admission reviews of ShortLinks;
// the chart's and config/webhook's ValidatingWebhookConfiguration call it.
const WebhookPath = "/validate-links-shortlink-dev-v1alpha1-shortlink"

// The admission webhook tells at `kubectl apply` what the reconciler would say after it: a
// spec the reconciler refuses (URL policy, domain rules) is denied with the message Ready
// would carry, from the same desiredLink. It is feedback, not enforcement: the configuration
// fails open (failurePolicy Ignore), and the reconciler enforces the same rules on whatever
// gets in while no replica answers.

// NewShortLinkWebhook returns the handler to register at WebhookPath. r supplies the rules
// (its client, URL policy, installation and store); it need not be the running reconciler,
// and is not on a follower replica, whose cache is current all the same.
func NewShortLinkWebhook(r *ShortLinkReconciler, scheme *runtime.Scheme) *webhook.Admission {
	return &webhook.Admission{Handler: &shortLinkAdmission{r: r, decoder: admission.NewDecoder(scheme)}}
}

type shortLinkAdmission struct {
	r       *ShortLinkReconciler
	decoder admission.Decoder
}

// Handle admits creates and updates of ShortLinks. An update that leaves the spec alone (the
// operator's finalizer, a label) is always admitted: a rule changed since must not block
// deletion or metadata.
func (a *shortLinkAdmission) Handle(ctx context.Context, req admission.Request) admission.Response {
	var sl linksv1.ShortLink
	if err := a.decoder.Decode(req, &sl); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if req.Operation == admissionv1.Update {
		var old linksv1.ShortLink
		if err := a.decoder.DecodeRaw(req.OldObject, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if equality.Semantic.DeepEqual(old.Spec, sl.Spec) || !sl.DeletionTimestamp.IsZero() {
			return admission.Allowed("")
		}
	}
	return a.r.admit(ctx, &sl)
}

// admit runs the reconciler's checks on sl. What the checks cannot read (a cache not synced
// yet) admits with a warning: the reconciler decides later.
func (r *ShortLinkReconciler) admit(ctx context.Context, sl *linksv1.ShortLink) admission.Response {
	c := r.claimOf(sl)
	_, err := r.desiredLink(ctx, sl, c)
	switch {
	case isLookupError(err):
		return admission.Allowed("").WithWarnings("Not checked now (" + err.Error() + "); the operator reports the outcome in status")
	case err != nil:
		_, message := refusal(err)
		return admission.Denied(message)
	}
	if holder := r.heldBy(ctx, sl, c); holder != "" {
		return admission.Allowed("").WithWarnings(conflictMessage(c.code, holder) +
			"; this ShortLink waits with Ready=False (CodeConflict) until the holder lets go")
	}
	return admission.Allowed("")
}

// heldBy names another holder of sl's claim, or "". It reads PostgreSQL, not the cached
// ShortLinks: the row is what the redirectors serve, and only it knows links made through the
// create API. A ShortLink restored under its own namespace/name takes its row back, so that is
// not another holder. A failed read warns of nothing: it is a warning, not a rule.
func (r *ShortLinkReconciler) heldBy(ctx context.Context, sl *linksv1.ShortLink, c claim) string {
	row, err := r.Store.Get(ctx, c.domain, c.code)
	if err != nil {
		if !errors.Is(err, links.ErrNotFound) {
			logf.FromContext(ctx).Info("Holder not checked", "error", err.Error())
		}
		return ""
	}
	own := row.OwnerUID == string(sl.UID) || (row.Source == links.SourceK8s && row.Owner == sl.Namespace+"/"+sl.Name)
	if row.Deleted || own {
		return ""
	}
	if row.Source == links.SourceAPI {
		return links.SourceAPI
	}
	return row.Owner
}
