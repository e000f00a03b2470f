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
	"crypto/x509"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// TestRotatorCertifiesTheServiceNames runs the leader's passes against a real API server with a
// configuration that calls a Service, as the chart's does: the first pass creates the Secret
// with a certificate for the Service's DNS names and sets the caBundle; a second pass writes
// nothing; a caBundle reset by someone else is put back without a new certificate.
func TestRotatorCertifiesTheServiceNames(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true})
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Kube.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "shortlink-validating-webhook"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "vshortlink.links.shortlink.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: "shortlink-system", Name: "shortlink-webhook-service", Path: ptr.To("/validate"),
			}},
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if err := c.Create(ctx, vwc); err != nil {
		t.Fatal(err)
	}
	r := &Rotator{Reader: c, Writer: c, Secret: types.NamespacedName{Namespace: "default", Name: "webhook-cert"},
		WebhookConfig: vwc.Name, Validity: time.Hour, RenewBefore: 10 * time.Minute, Interval: time.Second, Now: time.Now}

	if err := r.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	sec, bundle := readBoth(t, c, r)
	leaf, err := parseLeaf(sec.Data[KeyCert])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bundle)
	for _, name := range []string{"shortlink-webhook-service.shortlink-system.svc", "shortlink-webhook-service.shortlink-system.svc.cluster.local"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("certificate not valid for %s under the caBundle: %v", name, err)
		}
	}

	if err := r.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	sec2, vwc2 := readSecret(t, c, r), readConfig(t, c, r)
	if sec2.ResourceVersion != sec.ResourceVersion || !bytes.Equal(vwc2.Webhooks[0].ClientConfig.CABundle, bundle) {
		t.Error("a pass with nothing to do wrote the Secret or changed the caBundle")
	}

	vwc2.Webhooks[0].ClientConfig.CABundle = nil // as a careless re-apply of the configuration would
	if err := c.Update(ctx, vwc2); err != nil {
		t.Fatal(err)
	}
	if err := r.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	sec3, bundle3 := readBoth(t, c, r)
	if !bytes.Equal(bundle3, sec.Data[KeyCA]) || !bytes.Equal(sec3.Data[KeyCert], sec.Data[KeyCert]) {
		t.Error("a reset caBundle was not put back as the Secret's CA, or the certificate was rotated for it")
	}
}

func readBoth(t *testing.T, c client.Client, r *Rotator) (*corev1.Secret, []byte) {
	t.Helper()
	return readSecret(t, c, r), readConfig(t, c, r).Webhooks[0].ClientConfig.CABundle
}

func readSecret(t *testing.T, c client.Client, r *Rotator) *corev1.Secret {
	t.Helper()
	var sec corev1.Secret
	if err := c.Get(context.Background(), r.Secret, &sec); err != nil {
		t.Fatal(err)
	}
	return &sec
}

func readConfig(t *testing.T, c client.Client, r *Rotator) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(context.Background(), client.ObjectKey{Name: r.WebhookConfig}, &vwc); err != nil {
		t.Fatal(err)
	}
	return &vwc
}
