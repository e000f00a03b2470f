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
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/devenv"
)

// The shipped defaults include the admission webhooks (webhook.enabled is on in the chart and
// in config/default), and they cost the API server a call or two a create while saving it a
// write a link, so the operator scenario runs with them: config/webhook's two configurations,
// pointed at the manager's port on loopback, with the manager keeping their caBundle as in a
// cluster.
const benchWebhookSecret = benchNamespace + "/webhook-cert"

// installWebhooks creates config/webhook's Validating- and MutatingWebhookConfiguration, each
// calling the manager at o.webhookAddr, and returns the manager's environment for them.
func (o *operatorRun) installWebhooks(ctx context.Context) ([]string, error) {
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	if err := readManifest(filepath.Join(o.h.root, "config", "webhook", "validating_webhook.yaml"), &vwc); err != nil {
		return nil, err
	}
	if err := readManifest(filepath.Join(o.h.root, "config", "webhook", "mutating_webhook.yaml"), &mwc); err != nil {
		return nil, err
	}
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig = o.webhookClient(vwc.Webhooks[i].ClientConfig)
	}
	for i := range mwc.Webhooks {
		mwc.Webhooks[i].ClientConfig = o.webhookClient(mwc.Webhooks[i].ClientConfig)
	}
	if err := o.k8s.Create(ctx, &vwc); err != nil {
		return nil, fmt.Errorf("create webhook configuration: %w", err)
	}
	if err := o.k8s.Create(ctx, &mwc); err != nil {
		return nil, fmt.Errorf("create mutating webhook configuration: %w", err)
	}
	_, port, _ := net.SplitHostPort(o.webhookAddr)
	return []string{"WEBHOOK_PORT=" + port, "WEBHOOK_CERT_SECRET=" + benchWebhookSecret,
		"WEBHOOK_CONFIGURATION_NAME=" + vwc.Name, "WEBHOOK_MUTATING_CONFIGURATION_NAME=" + mwc.Name}, nil
}

// webhookClient calls the manager on loopback at the path the shipped configuration calls.
func (o *operatorRun) webhookClient(cc admissionregistrationv1.WebhookClientConfig) admissionregistrationv1.WebhookClientConfig {
	path := ""
	if cc.Service != nil && cc.Service.Path != nil {
		path = *cc.Service.Path
	}
	url := "https://" + o.webhookAddr + path
	return admissionregistrationv1.WebhookClientConfig{URL: &url}
}

// waitWebhooks waits until the API server calls the manager's webhooks (the leader has written
// the certificate and the caBundles): a dry-run create comes back with the finalizer.
func (o *operatorRun) waitWebhooks(ctx context.Context) error {
	return devenv.Poll(ctx, 2*time.Minute, "the API server calling the manager's webhooks", func() (bool, error) {
		probe := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: "webhook-probe"},
			Spec: linksv1.ShortLinkSpec{Target: "https://example.com/probe"}}
		if err := o.k8s.Create(ctx, probe, client.DryRunAll); err != nil {
			return false, err
		}
		return slices.Contains(probe.Finalizers, "links.shortlink.dev/finalizer"), nil
	})
}

func readManifest(path string, into any) error {
	data, err := os.ReadFile(path) //nolint:gosec // the repository's own manifests
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
