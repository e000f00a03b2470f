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
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/webhookcert"
)

// testWebhook is the ShortLink webhook served on loopback, as a manager replica serves it,
// with a ValidatingWebhookConfiguration that sends the API server's reviews of one
// namespace's ShortLinks to it, configured as the chart configures it (failurePolicy Ignore).
type testWebhook struct {
	ns   string
	addr string // host:port the server answers on
	ca   []byte // the CA that signed its certificate
	stop func()
}

func startWebhook(t *testing.T, ns string) *testWebhook {
	t.Helper()
	addr := freeLoopbackAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	b, err := webhookcert.Generate([]string{host}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(b.Cert, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := webhook.NewServer(webhook.Options{Host: host, Port: atoi(t, port),
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }
		}}})
	// The rules come from the suite manager's cached client, as on a replica of the manager.
	r := &ShortLinkReconciler{Client: managerClient, Store: db, Policy: &policy, Installation: testInstallation()}
	srv.Register(WebhookPath, NewShortLinkWebhook(r, scheme))
	srv.Register(FinalizerWebhookPath, NewFinalizerWebhook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Start(ctx); err != nil {
			t.Errorf("webhook server: %v", err)
		}
	}()
	var once sync.Once
	w := &testWebhook{ns: ns, addr: addr, ca: b.CA, stop: func() { once.Do(func() { cancel(); <-done }) }}
	t.Cleanup(w.stop)
	createWebhookConfig(t, ns, "https://"+addr+WebhookPath, b.CA)
	return w
}

// createWebhookConfig registers url for ns's ShortLinks, as config/webhook does for all.
func createWebhookConfig(t *testing.T, ns, url string, caBundle []byte) {
	t.Helper()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "shortlink-test-" + ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "vshortlink.links.shortlink.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](5),
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{linksv1.GroupVersion.Group}, APIVersions: []string{linksv1.GroupVersion.Version},
					Resources: []string{"shortlinks"},
				},
			}},
		}},
	}
	if err := k8s.Create(context.Background(), vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), vwc) })
}

// waitDenied creates sl as a dry run until the API server denies it through the webhook (it
// learns new webhook configurations a moment after they are created), and returns the
// denial's message.
func waitDenied(t *testing.T, sl *linksv1.ShortLink) string {
	t.Helper()
	var msg string
	waitFor(t, "webhook denial of "+sl.Name, func() (bool, string) {
		err := k8s.Create(context.Background(), sl.DeepCopy(), client.DryRunAll)
		if err == nil {
			return false, "admitted"
		}
		var status apierrors.APIStatus
		if !errors.As(err, &status) || !strings.Contains(err.Error(), "denied the request") {
			return false, err.Error()
		}
		msg = status.Status().Message
		return true, ""
	})
	return strings.TrimPrefix(msg, `admission webhook "vshortlink.links.shortlink.dev" denied the request: `)
}

// TestWebhookDeniesWhatTheOperatorRefuses: a namespace a domain does not admit, a code its
// rules refuse and a target the URL policy refuses are each denied at create, with a message
// naming the domain and rule or the target, as Ready would say.
func TestWebhookDeniesWhatTheOperatorRefuses(t *testing.T) {
	ns := newNamespace(t)
	closed := createDomain(t, teamDomain("wh-closed-"+ns, "closed-"+ns+".example", map[string]string{"team": "nobody"}))
	prefixed := teamDomain("wh-prefix-"+ns, "prefix-"+ns+".example", nil)
	prefixed.Spec.CodeRules = []linksv1.CodeRule{{Prefix: "team-"}} // an empty selector selects every namespace
	createDomain(t, prefixed)
	startWebhook(t, ns)

	for _, tc := range []struct {
		name  string
		sl    *linksv1.ShortLink
		wants []string
	}{
		{"namespace not admitted", onDomain(ns, "closed", closed.Spec.Host, "x"),
			[]string{"domain " + closed.Spec.Host, "ShortLinkDomain " + closed.Name, "allowedNamespaces", `namespace "` + ns + `"`}},
		{"code rule", onDomain(ns, "login", prefixed.Spec.Host, "login"),
			[]string{"domain " + prefixed.Spec.Host, "codeRules[0]", `"team-"`, `code "login"`}},
		{"target refused by the URL policy", shortLink(ns, "loop", linksv1.ShortLinkSpec{Target: "https://" + testDefaultDomain + "/x"}),
			[]string{"target", "host " + testDefaultDomain, "redirect loop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := waitDenied(t, tc.sl)
			for _, want := range tc.wants {
				if !strings.Contains(msg, want) {
					t.Errorf("denial %q does not say %q", msg, want)
				}
			}
		})
	}
	// A good link is admitted with no warning.
	create(t, onDomain(ns, "team-ok", prefixed.Spec.Host, "team-ok"))
}

// TestWebhookDownAdmitsAndTheOperatorStillRefuses: with no webhook answering, failurePolicy
// Ignore lets the create through, and the operator then reports exactly what the webhook had
// said in its denial.
func TestWebhookDownAdmitsAndTheOperatorStillRefuses(t *testing.T) {
	ns := newNamespace(t)
	closed := createDomain(t, teamDomain("wh-down-"+ns, "down-"+ns+".example", map[string]string{"team": "nobody"}))
	w := startWebhook(t, ns)
	sl := onDomain(ns, "refused", closed.Spec.Host, "refused")
	denial := waitDenied(t, sl)

	w.stop()
	if err := k8s.Create(context.Background(), sl); err != nil {
		t.Fatalf("create with the webhook down = %v; want admitted (failurePolicy Ignore)", err)
	}
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonNotAllowed)
	if msg := condition(got, linksv1.ConditionReady).Message; msg != denial {
		t.Errorf("Ready message %q; the webhook denied with %q", msg, denial)
	}
}

// TestWebhookWarnsOfAHeldCode: a code another ShortLink holds is admitted with a warning
// naming the holder, and the newcomer waits in CodeConflict as the warning says.
func TestWebhookWarnsOfAHeldCode(t *testing.T) {
	ns := newNamespace(t)
	holder := create(t, shortLink(ns, "holder", linksv1.ShortLinkSpec{Code: "wh-" + ns, Target: "https://example.com/a"}))
	waitReady(t, holder, metav1.ConditionTrue, linksv1.ReasonSynced)
	startWebhook(t, ns)
	waitDenied(t, shortLink(ns, "probe", linksv1.ShortLinkSpec{Target: "https://" + testDefaultDomain + "/x"}))
	claimLater(holder)

	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(env.Kube.Config)
	cfg.WarningHandlerWithContext = warnings
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	rival := shortLink(ns, "rival", linksv1.ShortLinkSpec{Code: "wh-" + ns, Target: "https://example.com/b"})
	if err := c.Create(context.Background(), rival); err != nil {
		t.Fatalf("create rival = %v; want admitted with a warning", err)
	}
	want := fmt.Sprintf("Code %q is held by %s/holder, which claimed it first", "wh-"+ns, ns)
	if got := warnings.all(); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("warnings %q; want one starting %q", got, want)
	}
	got := waitReady(t, rival, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
	if msg := condition(got, linksv1.ConditionReady).Message; msg != want {
		t.Errorf("Ready message %q; want %q", msg, want)
	}
}

// TestWebhookNeverBlocksMetadataOrDeletion: a link that a rule made later refuses still takes
// a label, and is deleted: the operator's finalizer removal is an update the webhook must admit.
func TestWebhookNeverBlocksMetadataOrDeletion(t *testing.T) {
	ns := newNamespace(t)
	host := "later-" + ns + ".example"
	sl := create(t, onDomain(ns, "early", host, "early"))
	open := createDomain(t, teamDomain("wh-later-"+ns, host, nil))
	waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	startWebhook(t, ns)
	waitDenied(t, onDomain(ns, "probe", "unserved-"+ns+".example", "probe"))

	cur := getDomain(t, open) // now the namespace may no longer publish on the host
	cur.Spec.AllowedNamespaces = &linksv1.AllowedNamespaces{From: linksv1.NamespacesFromSelector,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "nobody"}}}
	if err := k8s.Update(context.Background(), cur); err != nil {
		t.Fatal(err)
	}
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonNotAllowed)
	got.Labels = map[string]string{"campaign": "spring"}
	if err := k8s.Update(context.Background(), got); err != nil {
		t.Errorf("a label on a refused link = %v; want admitted", err)
	}
	if err := k8s.Delete(context.Background(), sl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused link gone (its finalizer removed)", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(sl), &linksv1.ShortLink{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// TestKubectlApplyShowsDenialAndWarning runs kubectl as a person would: a refused link's
// apply fails with the webhook's message, a held code's apply succeeds and prints Warning:.
func TestKubectlApplyShowsDenialAndWarning(t *testing.T) {
	ns := newNamespace(t)
	closed := createDomain(t, teamDomain("wh-kubectl-"+ns, "kubectl-"+ns+".example", map[string]string{"team": "nobody"}))
	code := "held-" + ns // codes on the default domain are shared by the whole suite
	holder := create(t, shortLink(ns, "holder", linksv1.ShortLinkSpec{Code: code, Target: "https://example.com/a"}))
	waitReady(t, holder, metav1.ConditionTrue, linksv1.ReasonSynced)
	startWebhook(t, ns)
	waitDenied(t, onDomain(ns, "probe", closed.Spec.Host, "probe"))
	claimLater(holder)

	out, err := kubectlApply(t, ns, fmt.Sprintf(`{"apiVersion":"links.shortlink.dev/v1alpha1","kind":"ShortLink",
		"metadata":{"name":"team-link"},"spec":{"domain":%q,"target":"https://example.com/"}}`, closed.Spec.Host))
	if err == nil || !strings.Contains(out, `admission webhook "vshortlink.links.shortlink.dev" denied the request: `) ||
		!strings.Contains(out, "domain "+closed.Spec.Host) || !strings.Contains(out, "allowedNamespaces") {
		t.Errorf("kubectl apply of a refused link = %v:\n%s", err, out)
	}
	out, err = kubectlApply(t, ns, fmt.Sprintf(`{"apiVersion":"links.shortlink.dev/v1alpha1","kind":"ShortLink",
		"metadata":{"name":"second"},"spec":{"code":%q,"target":"https://example.com/b"}}`, code))
	if err != nil || !strings.Contains(out, fmt.Sprintf("Warning: Code %q is held by %s/holder", code, ns)) ||
		!strings.Contains(out, "shortlink.links.shortlink.dev/second created") {
		t.Errorf("kubectl apply of a held code = %v:\n%s", err, out)
	}
}

// claimLater waits until a ShortLink created now is younger than holder. creationTimestamp has
// whole seconds, and of two claims made in one second the lower UID is the older (DESIGN §3), so
// a rival made in holder's second could rightly take the code.
func claimLater(holder *linksv1.ShortLink) {
	time.Sleep(time.Until(holder.CreationTimestamp.Add(1100 * time.Millisecond)))
}

func kubectlApply(t *testing.T, ns, manifest string) (string, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "link.json")
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(env.Kube.AssetsDir, "kubectl"), "--kubeconfig", env.Kube.Kubeconfig, //nolint:gosec // our own binary
		"-n", ns, "apply", "-f", file).CombinedOutput()
	return string(out), err
}

// warningRecorder keeps the API server's warnings, as kubectl prints them.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
