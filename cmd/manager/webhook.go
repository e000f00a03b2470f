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

package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/envflag"
	"github.com/shortlink-dev/shortlink/internal/webhookcert"
)

// Self-managed certificates live a year and are renewed with a third of it left: long enough
// that a manager down for weeks returns to a valid certificate, short enough to be routine.
const (
	certValidity    = 365 * 24 * time.Hour
	certRenewBefore = certValidity / 3
)

// webhookOptions are the admission webhook's flags. The webhook is served when a certificate
// Secret is named; without one the manager runs as before the webhook existed.
type webhookOptions struct {
	port         int
	certSecret   string
	secret       types.NamespacedName // from certSecret
	configName   string
	mutatingName string
	selfManaged  bool
	pollInterval time.Duration
}

func (w *webhookOptions) bind(f *envflag.Set) {
	f.Int(&w.port, "webhook-port", 9443, "port of the ShortLink admission webhook (HTTPS), served by every replica")
	f.String(&w.certSecret, "webhook-cert-secret", "",
		"the Secret holding the webhook's tls.crt, tls.key and ca.crt, namespace/name or a name in the pod's namespace; empty turns the webhook off")
	f.String(&w.configName, "webhook-configuration-name", "",
		"the ValidatingWebhookConfiguration whose caBundle the leader keeps (with --webhook-self-managed-certs)")
	f.String(&w.mutatingName, "webhook-mutating-configuration-name", "",
		"the MutatingWebhookConfiguration (the finalizer at create) whose caBundle the leader keeps too; empty keeps none")
	f.Bool(&w.selfManaged, "webhook-self-managed-certs", true,
		"the leader generates the certificate into the Secret and rotates it before expiry; false when cert-manager does")
	f.Duration(&w.pollInterval, "webhook-cert-poll-interval", 10*time.Second,
		"how often every replica re-reads the Secret (and the leader checks the certificate and caBundle)")
}

func (w *webhookOptions) enabled() bool { return w.certSecret != "" }

func (w *webhookOptions) validate() error {
	if !w.enabled() {
		return nil
	}
	ns, name, err := secretName(w.certSecret)
	switch {
	case err != nil:
		return fmt.Errorf("--webhook-cert-secret (WEBHOOK_CERT_SECRET): %w", err)
	case w.port <= 0 || w.port > 65535:
		return fmt.Errorf("--webhook-port (WEBHOOK_PORT) must be a port number")
	case w.selfManaged && w.configName == "":
		return fmt.Errorf("--webhook-configuration-name (WEBHOOK_CONFIGURATION_NAME) is required with self-managed certificates")
	case w.pollInterval <= 0:
		return fmt.Errorf("--webhook-cert-poll-interval (WEBHOOK_CERT_POLL_INTERVAL) must be positive")
	}
	w.secret = types.NamespacedName{Namespace: ns, Name: name}
	return nil
}

// podNamespaceFile holds the namespace of the pod a process runs in.
const podNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// secretName splits namespace/name; a bare name is in the pod's own namespace, so that
// kustomize overlays that change the namespace need not change the flag.
func secretName(s string) (string, string, error) {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		if ns == "" || name == "" {
			return "", "", fmt.Errorf("want namespace/name or name, not %q", s)
		}
		return ns, name, nil
	}
	ns, err := os.ReadFile(podNamespaceFile)
	if err != nil {
		return "", "", fmt.Errorf("%q has no namespace, and this is not a pod: %w", s, err)
	}
	return strings.TrimSpace(string(ns)), s, nil
}

// webhookServer is the manager's webhook server, serving the certificate src holds; nil when
// the webhook is off, so the manager adds no server at all.
func (w *webhookOptions) server(src *webhookcert.Source) webhook.Server {
	if !w.enabled() {
		return nil
	}
	return webhook.NewServer(webhook.Options{
		Port:    w.port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.GetCertificate = src.GetCertificate }},
	})
}

// addWebhook registers the ShortLink webhook on every replica, the Secret follower beside it,
// and, with self-managed certificates, the leader's rotator. Nothing here holds up readiness:
// until a certificate is served, the API server admits without us (failurePolicy Ignore).
func (w *webhookOptions) addWebhook(mgr manager.Manager, src *webhookcert.Source, r *controllers.ShortLinkReconciler) error {
	if !w.enabled() {
		return nil
	}
	src.Reader, src.Secret, src.Interval = mgr.GetAPIReader(), w.secret, w.pollInterval
	mgr.GetWebhookServer().Register(controllers.WebhookPath, controllers.NewShortLinkWebhook(r, mgr.GetScheme()))
	mgr.GetWebhookServer().Register(controllers.FinalizerWebhookPath, controllers.NewFinalizerWebhook())
	if err := mgr.Add(src); err != nil {
		return fmt.Errorf("add webhook certificate source: %w", err)
	}
	if !w.selfManaged {
		return nil
	}
	rot := &webhookcert.Rotator{
		Reader: mgr.GetAPIReader(), Writer: mgr.GetClient(), Secret: w.secret, WebhookConfig: w.configName,
		MutatingWebhookConfig: w.mutatingName,
		Validity:              certValidity, RenewBefore: certRenewBefore, Interval: w.pollInterval, Now: time.Now,
	}
	if err := mgr.Add(rot); err != nil {
		return fmt.Errorf("add webhook certificate rotator: %w", err)
	}
	return nil
}
