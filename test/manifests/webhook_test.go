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

package manifests

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestWebhookWiring: in every rendering the manager's webhook flags name the Secret and the
// configuration that its RBAC allows by name, the configuration calls the manager's Service and
// fails open with a short timeout, and the manager's NetworkPolicy admits the webhook port.
func TestWebhookWiring(t *testing.T) {
	for _, r := range allRenderings(t) {
		t.Run(r.name, func(t *testing.T) {
			checkWebhookWiring(t, r, true)
		})
	}
}

// TestWebhookWithCertManager: with webhook.certManager.enabled the chart has cert-manager issue
// the Secret and inject the CA, and the manager neither rotates nor may patch the configuration.
func TestWebhookWithCertManager(t *testing.T) {
	r := &rendering{name: "helm cert-manager", objs: decode(t, helmTemplate(t, release, "--set", "webhook.certManager.enabled=true"))}
	checkWebhookWiring(t, r, false)
	cert := r.one(t, "Certificate", "shortlink-webhook-cert")
	if s, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName"); s != "shortlink-webhook-cert" {
		t.Errorf("Certificate writes Secret %q", s)
	}
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if !slices.Contains(dns, "shortlink-webhook-service."+namespace+".svc") {
		t.Errorf("Certificate dnsNames %v lack the Service", dns)
	}
	r.one(t, "Issuer", "shortlink-webhook-issuer")
	for kind, name := range map[string]string{"ValidatingWebhookConfiguration": "shortlink-validating-webhook",
		"MutatingWebhookConfiguration": "shortlink-mutating-webhook"} {
		if a := r.one(t, kind, name).GetAnnotations()["cert-manager.io/inject-ca-from"]; a != namespace+"/shortlink-webhook-cert" {
			t.Errorf("%s inject-ca-from = %q", kind, a)
		}
	}
	if _, ok := r.find("Secret")["shortlink-webhook-cert"]; ok {
		t.Error("the chart creates the Secret cert-manager owns")
	}
	if _, ok := r.find("ClusterRole")["shortlink-webhook-config-role"]; ok {
		t.Error("the manager may patch the webhook configuration though cert-manager injects its CA")
	}
}

func checkWebhookWiring(t *testing.T, r *rendering, selfManaged bool) {
	t.Helper()
	c := containers(t, r.component(t, "manager"))[0]
	secret, config := envValue(c, "WEBHOOK_CERT_SECRET"), envValue(c, "WEBHOOK_CONFIGURATION_NAME")
	mutating := envValue(c, "WEBHOOK_MUTATING_CONFIGURATION_NAME")
	// A bare name: the Secret is in the manager's own namespace, whatever an overlay makes it.
	if want := "shortlink-webhook-cert"; secret != want {
		t.Errorf("WEBHOOK_CERT_SECRET = %q, want %q", secret, want)
	}
	if got := envValue(c, "WEBHOOK_SELF_MANAGED_CERTS"); got != map[bool]string{true: "true", false: "false"}[selfManaged] {
		t.Errorf("WEBHOOK_SELF_MANAGED_CERTS = %q", got)
	}
	role := r.one(t, "Role", "shortlink-webhook-cert-role")
	wantVerbs := []string{"get"}
	if selfManaged {
		wantVerbs = append(wantVerbs, "update")
		configRole := r.one(t, "ClusterRole", "shortlink-webhook-config-role")
		if !allowsByName(configRole, config, []string{"get", "patch"}) || !allowsByName(configRole, mutating, []string{"get", "patch"}) {
			t.Errorf("ClusterRole does not allow get and patch of exactly %q and %q", config, mutating)
		}
	}
	if !allowsByName(role, secret, wantVerbs) {
		t.Errorf("Role does not allow %v of exactly the Secret %q", wantVerbs, secret)
	}
	for kind, name := range map[string]string{"ValidatingWebhookConfiguration": config, "MutatingWebhookConfiguration": mutating} {
		hooks, _, _ := unstructured.NestedSlice(r.one(t, kind, name).Object, "webhooks")
		if len(hooks) != 1 {
			t.Fatalf("%s: %d webhooks, want 1", kind, len(hooks))
		}
		h := hooks[0].(map[string]any)
		svc, _, _ := unstructured.NestedString(h, "clientConfig", "service", "name")
		r.one(t, "Service", svc)
		timeout, _, _ := unstructured.NestedInt64(h, "timeoutSeconds")
		if h["failurePolicy"] != "Ignore" || h["sideEffects"] != "None" || timeout < 1 || timeout > 5 {
			t.Errorf("%s fails %v, side effects %v, timeout %ds; want Ignore, None, at most 5s", kind, h["failurePolicy"], h["sideEffects"], timeout)
		}
	}
	if !strings.Contains(toYAML(r.one(t, "NetworkPolicy", "shortlink-manager").Object["spec"]), "port: 9443") {
		t.Error("the manager's NetworkPolicy does not admit the webhook port")
	}
}

// allowsByName says whether every rule of obj names exactly one object and one of them names
// only name, with verbs.
func allowsByName(obj *unstructured.Unstructured, name string, verbs []string) bool {
	rules, _, _ := unstructured.NestedSlice(obj.Object, "rules")
	found := false
	for _, r := range rules {
		rule := r.(map[string]any)
		names, _, _ := unstructured.NestedStringSlice(rule, "resourceNames")
		got, _, _ := unstructured.NestedStringSlice(rule, "verbs")
		if len(names) != 1 {
			return false
		}
		found = found || (names[0] == name && slices.Equal(got, verbs))
	}
	return found
}
