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

// Rotator keeps the Secret holding a valid serving certificate for the hosts the webhook
// configurations call, and those configurations' caBundle trusting it: the
// ValidatingWebhookConfiguration and, when named, the MutatingWebhookConfiguration beside it
// (both call the same server). It runs on the leader only, so two replicas never race to rotate.
//
// A rotation makes a new CA and certificate; the caBundle then holds the new CA and the one
// before it, so the API server still trusts replicas that serve the old certificate until they
// read the new Secret. The caBundle is patched before the Secret is written for the same reason.
type Rotator struct {
	// Reader reads the objects uncached (the RBAC allows exactly those objects by name, and a
	// cache would need list and watch on every Secret and webhook configuration).
	Reader client.Reader
	Writer client.Writer
	Secret types.NamespacedName
	// WebhookConfig names the ValidatingWebhookConfiguration whose caBundle is kept.
	WebhookConfig string
	// MutatingWebhookConfig names the MutatingWebhookConfiguration whose caBundle is kept too;
	// empty keeps none.
	MutatingWebhookConfig string
	// Validity is how long a new certificate is valid; it is renewed RenewBefore its end.
	Validity, RenewBefore time.Duration
	// Interval is how often the Secret and the caBundle are checked.
	Interval time.Duration
	Now      func() time.Time
}

// Start checks every Interval until ctx ends; a failed pass is logged and retried.
func (r *Rotator) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("secret", r.Secret.String(), "webhookConfiguration", r.WebhookConfig,
		"mutatingWebhookConfiguration", r.MutatingWebhookConfig)
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.Ensure(ctx); err != nil {
			log.Info("Webhook certificate not ensured; will retry", "error", err.Error())
		}
	}, r.Interval)
	return nil
}

// NeedLeaderElection is true: only the leader writes the Secret and the caBundle.
func (r *Rotator) NeedLeaderElection() bool { return true }

// webhookConfig is one webhook configuration as read, with its webhooks' client configs
// (pointers into obj, so setting a caBundle there changes obj).
type webhookConfig struct {
	obj     client.Object
	clients []*admissionregistrationv1.WebhookClientConfig
	names   []string
}

// readConfigs reads the configurations whose caBundle is kept.
func (r *Rotator) readConfigs(ctx context.Context) ([]webhookConfig, error) {
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := r.Reader.Get(ctx, types.NamespacedName{Name: r.WebhookConfig}, &vwc); err != nil {
		return nil, fmt.Errorf("read webhook configuration: %w", err)
	}
	v := webhookConfig{obj: &vwc}
	for i := range vwc.Webhooks {
		v.clients, v.names = append(v.clients, &vwc.Webhooks[i].ClientConfig), append(v.names, vwc.Webhooks[i].Name)
	}
	if r.MutatingWebhookConfig == "" {
		return []webhookConfig{v}, nil
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	if err := r.Reader.Get(ctx, types.NamespacedName{Name: r.MutatingWebhookConfig}, &mwc); err != nil {
		return nil, fmt.Errorf("read mutating webhook configuration: %w", err)
	}
	m := webhookConfig{obj: &mwc}
	for i := range mwc.Webhooks {
		m.clients, m.names = append(m.clients, &mwc.Webhooks[i].ClientConfig), append(m.names, mwc.Webhooks[i].Name)
	}
	return []webhookConfig{v, m}, nil
}

// Ensure makes one pass: rotate when the certificate is missing, invalid, for other hosts or
// near its end; otherwise only bring the caBundles in step with the Secret.
func (r *Rotator) Ensure(ctx context.Context) error {
	configs, err := r.readConfigs(ctx)
	if err != nil {
		return err
	}
	hosts, err := hostsOf(configs)
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
		return r.rotate(ctx, configs, &sec, found, hosts, why)
	}
	return r.patchCABundles(ctx, configs, sec.Data[KeyCA])
}

func (r *Rotator) rotate(ctx context.Context, configs []webhookConfig,
	sec *corev1.Secret, found bool, hosts []string, why string) error {
	now := r.Now()
	b, err := Generate(hosts, now, r.Validity)
	if err != nil {
		return err
	}
	bundle := append(append([]byte{}, b.CA...), previousCA(sec.Data[KeyCA], now)...)
	if err := r.patchCABundles(ctx, configs, bundle); err != nil {
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

// patchCABundles sets caBundle on every webhook of the configurations that lacks it.
func (r *Rotator) patchCABundles(ctx context.Context, configs []webhookConfig, bundle []byte) error {
	for _, c := range configs {
		orig, ok := c.obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("copy %s", c.obj.GetName())
		}
		changed := false
		for _, cc := range c.clients {
			if !bytes.Equal(cc.CABundle, bundle) {
				cc.CABundle = bundle
				changed = true
			}
		}
		if !changed {
			continue
		}
		if err := r.Writer.Patch(ctx, c.obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("patch caBundle of %s: %w", c.obj.GetName(), err)
		}
	}
	return nil
}

// hostsOf lists the names the API server checks our certificate against: each webhook's
// Service DNS names, or the host of its URL.
func hostsOf(configs []webhookConfig) ([]string, error) {
	var hosts []string
	seen := map[string]bool{}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	for _, c := range configs {
		for i, cc := range c.clients {
			switch {
			case cc.Service != nil:
				svc := cc.Service.Name + "." + cc.Service.Namespace + ".svc"
				add(svc)
				add(svc + ".cluster.local")
			case cc.URL != nil:
				u, err := url.Parse(*cc.URL)
				if err != nil {
					return nil, fmt.Errorf("webhook %s: url: %w", c.names[i], err)
				}
				add(u.Hostname())
			}
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("webhook configuration %s: no webhook names a service or URL", configs[0].obj.GetName())
	}
	return hosts, nil
}
