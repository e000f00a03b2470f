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

package webhookcert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Rotator keeps the Secret holding a valid serving certificate for the hosts the
// ValidatingWebhookConfiguration calls, and that configuration's caBundle trusting it. It runs
// on the leader only, so two replicas never race to rotate.
//
// A rotation makes a new CA and certificate; the caBundle then holds the new CA and the one
// before it, so the API server still trusts replicas that serve the old certificate until they
// read the new Secret. The caBundle is patched before the Secret is written for the same reason.
type Rotator struct {
	// Reader reads the two objects uncached (the RBAC allows exactly those two by name, and a
	// cache would need list and watch on every Secret and webhook configuration).
	Reader client.Reader
	Writer client.Writer
	Secret types.NamespacedName
	// WebhookConfig names the ValidatingWebhookConfiguration whose caBundle is kept.
	WebhookConfig string
	// Validity is how long a new certificate is valid; it is renewed RenewBefore its end.
	Validity, RenewBefore time.Duration
	// Interval is how often the Secret and the caBundle are checked.
	Interval time.Duration
	Now      func() time.Time
}

// Start checks every Interval until ctx ends; a failed pass is logged and retried.
func (r *Rotator) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("secret", r.Secret.String(), "webhookConfiguration", r.WebhookConfig)
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.Ensure(ctx); err != nil {
			log.Info("Webhook certificate not ensured; will retry", "error", err.Error())
		}
	}, r.Interval)
	return nil
}

// NeedLeaderElection is true: only the leader writes the Secret and the caBundle.
func (r *Rotator) NeedLeaderElection() bool { return true }

// Ensure makes one pass: rotate when the certificate is missing, invalid, for other hosts or
// near its end; otherwise only bring the caBundle in step with the Secret.
func (r *Rotator) Ensure(ctx context.Context) error {
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := r.Reader.Get(ctx, types.NamespacedName{Name: r.WebhookConfig}, &vwc); err != nil {
		return fmt.Errorf("read webhook configuration: %w", err)
	}
	hosts, err := hostsOf(&vwc)
	if err != nil {
		return err
	}
	var sec corev1.Secret
	err = r.Reader.Get(ctx, r.Secret, &sec)
	found := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read secret: %w", err)
	}
	now := r.Now()
	if why := r.staleBecause(sec.Data, hosts, now); why != "" {
		return r.rotate(ctx, &vwc, &sec, found, hosts, why)
	}
	return r.patchCABundle(ctx, &vwc, sec.Data[KeyCA])
}

func (r *Rotator) rotate(ctx context.Context, vwc *admissionregistrationv1.ValidatingWebhookConfiguration,
	sec *corev1.Secret, found bool, hosts []string, why string) error {
	now := r.Now()
	b, err := Generate(hosts, now, r.Validity)
	if err != nil {
		return err
	}
	bundle := append(append([]byte{}, b.CA...), previousCA(sec.Data[KeyCA], now)...)
	if err := r.patchCABundle(ctx, vwc, bundle); err != nil {
		return err
	}
	sec.Name, sec.Namespace = r.Secret.Name, r.Secret.Namespace
	sec.Data = map[string][]byte{KeyCert: b.Cert, KeyKey: b.Key, KeyCA: bundle}
	if found {
		err = r.Writer.Update(ctx, sec)
	} else {
		err = r.Writer.Create(ctx, sec)
	}
	if err != nil {
		return fmt.Errorf("write secret: %w", err)
	}
	logf.FromContext(ctx).Info("Webhook certificate rotated", "secret", r.Secret.String(), "reason", why, "hosts", hosts)
	return nil
}

// staleBecause says why the Secret's certificate must be replaced, or "" when it may stay.
func (r *Rotator) staleBecause(data map[string][]byte, hosts []string, now time.Time) string {
	if _, err := tls.X509KeyPair(data[KeyCert], data[KeyKey]); err != nil {
		return "no usable key pair"
	}
	leaf, err := parseLeaf(data[KeyCert])
	if err != nil {
		return "no usable certificate"
	}
	if now.Add(r.RenewBefore).After(leaf.NotAfter) {
		return "expires soon"
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(data[KeyCA]) {
		return "no CA"
	}
	for _, h := range hosts {
		opts := x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: now}
		if _, err := leaf.Verify(opts); err != nil {
			return "not valid for " + h
		}
	}
	return ""
}

// previousCA is the first CA of an old bundle (the one that signed the old certificate) while
// it is still valid, to keep trusting replicas that still serve that certificate.
func previousCA(bundle []byte, now time.Time) []byte {
	block, _ := pem.Decode(bundle)
	if block == nil {
		return nil
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || now.After(ca.NotAfter) {
		return nil
	}
	return pem.EncodeToMemory(block)
}

// patchCABundle sets caBundle on every webhook of the configuration that lacks it.
func (r *Rotator) patchCABundle(ctx context.Context, vwc *admissionregistrationv1.ValidatingWebhookConfiguration, bundle []byte) error {
	orig := vwc.DeepCopy()
	changed := false
	for i := range vwc.Webhooks {
		if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, bundle) {
			vwc.Webhooks[i].ClientConfig.CABundle = bundle
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := r.Writer.Patch(ctx, vwc, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patch caBundle: %w", err)
	}
	return nil
}

// hostsOf lists the names the API server checks our certificate against: each webhook's
// Service DNS names, or the host of its URL.
func hostsOf(vwc *admissionregistrationv1.ValidatingWebhookConfiguration) ([]string, error) {
	var hosts []string
	seen := map[string]bool{}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	for _, w := range vwc.Webhooks {
		switch cc := w.ClientConfig; {
		case cc.Service != nil:
			svc := cc.Service.Name + "." + cc.Service.Namespace + ".svc"
			add(svc)
			add(svc + ".cluster.local")
		case cc.URL != nil:
			u, err := url.Parse(*cc.URL)
			if err != nil {
				return nil, fmt.Errorf("webhook %s: url: %w", w.Name, err)
			}
			add(u.Hostname())
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("webhook configuration %s: no webhook names a service or URL", vwc.Name)
	}
	return hosts, nil
}
