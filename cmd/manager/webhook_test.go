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
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/controllers"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/webhookcert"
)

const (
	certSecretNS, certSecretName = "default", "shortlink-webhook-cert"
	webhookConfigName            = "shortlink-test-webhook"
	mutatingConfigName           = "shortlink-test-mutating-webhook"
)

// TestWebhookCertificatesRotateAcrossReplicas runs two manager processes. The first, alone and
// so the leader, is Ready before any webhook configuration exists, then writes the Secret and
// the caBundle; the API server calls the second, a follower, which serves the leader's
// certificate. A certificate near its end is replaced by the leader, the caBundle trusts the
// new CA (and the one before), and the follower serves the new certificate without a restart.
// The MutatingWebhookConfiguration (the finalizer at create) gets the same caBundle each time,
// so the API server keeps calling it across the rotation.
func TestWebhookCertificatesRotateAcrossReplicas(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true, Postgres: true, Redis: true})
	c := newWebhookClient(t, env)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	closed := &linksv1.ShortLinkDomain{ObjectMeta: metav1.ObjectMeta{Name: "closed"}, Spec: linksv1.ShortLinkDomainSpec{
		Host: "closed.example", AllowedNamespaces: &linksv1.AllowedNamespaces{From: linksv1.NamespacesFromSelector,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}},
	}}
	if err := c.Create(ctx, closed); err != nil {
		t.Fatal(err)
	}

	leaderProbe := freeAddr(t)
	startWebhookManager(t, env, freeAddr(t), leaderProbe)
	waitFor(t, "the leader Ready with no webhook configuration", func() error {
		_, err := httpGet("http://" + leaderProbe + "/readyz")
		return err
	})
	follower := freeAddr(t)
	createManagerWebhookConfig(t, c, "https://"+follower+controllers.WebhookPath)
	createManagerMutatingConfig(t, c, "https://"+follower+controllers.FinalizerWebhookPath)
	first := waitSecretCert(t, c, nil)
	startWebhookManager(t, env, follower, freeAddr(t))

	refused := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "refused"},
		Spec: linksv1.ShortLinkSpec{Domain: "closed.example", Target: "https://example.com/"}}
	waitServes(t, follower, first)
	waitDeniedVia(t, c, refused)
	waitFinalizerVia(t, c, ns.Name)

	// A certificate with an hour left, well within the renewal window, as if a year had passed.
	old, err := webhookcert.Generate([]string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeSecret(t, c, old)
	rotated := waitSecretCert(t, c, old.Cert)
	if bytes.Equal(rotated, first) {
		t.Fatal("the leader put back the first certificate instead of a new one")
	}
	bundle := caBundle(t, c)
	if !verifies(bundle, rotated) || !bytes.Contains(bundle, old.CA) {
		t.Errorf("caBundle does not trust the new certificate and the previous CA:\n%s", bundle)
	}
	waitFor(t, "the mutating configuration's caBundle to match the validating one", func() error {
		if m := mutatingCABundle(t, c); !bytes.Equal(m, bundle) {
			return fmt.Errorf("mutating caBundle differs:\n%s", m)
		}
		return nil
	})
	waitServes(t, follower, rotated)
	waitDeniedVia(t, c, refused)
	waitFinalizerVia(t, c, ns.Name)
}

// createManagerMutatingConfig is the chart's MutatingWebhookConfiguration, calling url with
// no caBundle yet.
func createManagerMutatingConfig(t *testing.T, c client.Client, url string) {
	t.Helper()
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: mutatingConfigName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "mshortlink.links.shortlink.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](5),
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"links.shortlink.dev"}, APIVersions: []string{"v1alpha1"},
					Resources: []string{"shortlinks"}},
			}},
		}},
	}
	if err := c.Create(context.Background(), mwc); err != nil {
		t.Fatal(err)
	}
}

func mutatingCABundle(t *testing.T, c client.Client) []byte {
	t.Helper()
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	if err := c.Get(context.Background(), client.ObjectKey{Name: mutatingConfigName}, &mwc); err != nil {
		t.Fatal(err)
	}
	return mwc.Webhooks[0].ClientConfig.CABundle
}

// waitFinalizerVia waits until the API server, calling the mutating webhook over TLS it
// trusts through the caBundle, returns a new ShortLink with the operator's finalizer (a dry run).
func waitFinalizerVia(t *testing.T, c client.Client, ns string) {
	t.Helper()
	waitFor(t, "the API server to add the finalizer through the mutating webhook", func() error {
		sl := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "admitted"},
			Spec: linksv1.ShortLinkSpec{Target: "https://example.com/"}}
		if err := c.Create(context.Background(), sl, client.DryRunAll); err != nil {
			return err
		}
		if len(sl.Finalizers) != 1 || sl.Finalizers[0] != "links.shortlink.dev/finalizer" {
			return fmt.Errorf("finalizers %q", sl.Finalizers)
		}
		return nil
	})
}

func startWebhookManager(t *testing.T, env *localenv.Env, webhookAddr, probeAddr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(webhookAddr)
	p, err := env.StartProcess("manager", os.Args[0], nil, []string{
		runAsManager + "=1", "KUBECONFIG=" + env.Kube.Kubeconfig,
		"DATABASE_URL=" + env.Postgres.URL("postgres"), "REDIS_URL=" + env.Redis.URL(), "DEFAULT_DOMAIN=sho.rt",
		"LEADER_ELECT=true", "LEADER_ELECTION_NAMESPACE=default",
		"METRICS_BIND_ADDRESS=0", "HEALTH_PROBE_BIND_ADDRESS=" + probeAddr,
		"WEBHOOK_PORT=" + port, "WEBHOOK_CERT_SECRET=" + certSecretNS + "/" + certSecretName,
		"WEBHOOK_CONFIGURATION_NAME=" + webhookConfigName, "WEBHOOK_MUTATING_CONFIGURATION_NAME=" + mutatingConfigName,
		"WEBHOOK_CERT_POLL_INTERVAL=200ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager log:\n%s", p.LogTail())
		}
		_ = p.Stop()
	})
}

func newWebhookClient(t *testing.T, env *localenv.Env) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := linksv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Kube.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createManagerWebhookConfig is the chart's configuration, calling url with no caBundle yet.
func createManagerWebhookConfig(t *testing.T, c client.Client, url string) {
	t.Helper()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: webhookConfigName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "vshortlink.links.shortlink.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](5),
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"links.shortlink.dev"}, APIVersions: []string{"v1alpha1"},
					Resources: []string{"shortlinks"}},
			}},
		}},
	}
	if err := c.Create(context.Background(), vwc); err != nil {
		t.Fatal(err)
	}
}

// waitSecretCert waits until the Secret holds a certificate other than not, and returns it.
func waitSecretCert(t *testing.T, c client.Client, not []byte) []byte {
	t.Helper()
	var cert []byte
	waitFor(t, "the leader to write the certificate Secret", func() error {
		var sec corev1.Secret
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: certSecretNS, Name: certSecretName}, &sec); err != nil {
			return err
		}
		cert = sec.Data[webhookcert.KeyCert]
		if len(cert) == 0 || bytes.Equal(cert, not) {
			return errors.New("no new certificate yet")
		}
		return nil
	})
	return cert
}

func writeSecret(t *testing.T, c client.Client, b webhookcert.Bundle) {
	t.Helper()
	var sec corev1.Secret
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: certSecretNS, Name: certSecretName}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{webhookcert.KeyCert: b.Cert, webhookcert.KeyKey: b.Key, webhookcert.KeyCA: b.CA}
	if err := c.Update(context.Background(), &sec); err != nil {
		t.Fatal(err)
	}
}

func caBundle(t *testing.T, c client.Client) []byte {
	t.Helper()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(context.Background(), client.ObjectKey{Name: webhookConfigName}, &vwc); err != nil {
		t.Fatal(err)
	}
	return vwc.Webhooks[0].ClientConfig.CABundle
}

func verifies(bundle, certPEM []byte) bool {
	roots := x509.NewCertPool()
	block, _ := pem.Decode(certPEM)
	if !roots.AppendCertsFromPEM(bundle) || block == nil {
		return false
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"})
	return err == nil
}

// waitServes waits until the webhook at addr presents certPEM.
func waitServes(t *testing.T, addr string, certPEM []byte) {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	waitFor(t, addr+" to serve the Secret's certificate", func() error {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // compared below
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close() }()
		if !bytes.Equal(conn.ConnectionState().PeerCertificates[0].Raw, block.Bytes) {
			return errors.New("serves another certificate")
		}
		return nil
	})
}

// waitDeniedVia waits until the API server denies sl through the webhook (a dry run).
func waitDeniedVia(t *testing.T, c client.Client, sl *linksv1.ShortLink) {
	t.Helper()
	waitFor(t, "the API server to deny "+sl.Name+" through the webhook", func() error {
		err := c.Create(context.Background(), sl.DeepCopy(), client.DryRunAll)
		if err == nil {
			return errors.New("admitted")
		}
		if !strings.Contains(err.Error(), "denied the request") || !strings.Contains(err.Error(), "domain closed.example") {
			return fmt.Errorf("unexpected error: %w", err)
		}
		return nil
	})
}

// TestWebhookOptionsRefuseWhatCannotWork: a webhook configuration that cannot work stops the
// manager at start with the flag named, rather than serving a webhook nobody can call.
func TestWebhookOptionsRefuseWhatCannotWork(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x", "REDIS_URL": "redis://x"}
	cases := map[string]struct {
		vars map[string]string
		flag string
	}{
		"bare secret outside a pod": {map[string]string{"WEBHOOK_CERT_SECRET": "cert", "WEBHOOK_CONFIGURATION_NAME": "w"}, "--webhook-cert-secret"},
		"secret without a name":     {map[string]string{"WEBHOOK_CERT_SECRET": "ns/", "WEBHOOK_CONFIGURATION_NAME": "w"}, "--webhook-cert-secret"},
		"self-managed, no config":   {map[string]string{"WEBHOOK_CERT_SECRET": "ns/cert"}, "--webhook-configuration-name"},
		"no port":                   {map[string]string{"WEBHOOK_CERT_SECRET": "ns/cert", "WEBHOOK_CONFIGURATION_NAME": "w", "WEBHOOK_PORT": "0"}, "--webhook-port"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tc.vars {
				vars[k] = v
			}
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Fatalf("run = %v; want an error naming %s", err, tc.flag)
			}
		})
	}
}
