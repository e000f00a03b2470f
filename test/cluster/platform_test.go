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

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localcluster"
	"github.com/shortlink-dev/shortlink/internal/localenv"
	"github.com/shortlink-dev/shortlink/internal/localnode"
)

const (
	chartNamespace = "shortlink-system"
	linksNamespace = "links"
	nodeDomain     = "links.node.test" // hack/cluster/values.yaml and the overlay
)

// repoRoot is where charts/, config/ and hack/ are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// platformTools are the helm binary and the images of `make images`, which `make test-cluster`
// passes in; under CI=true their absence fails the test.
func platformTools(t *testing.T) (helm, images string) {
	t.Helper()
	helm, images = os.Getenv("HELM"), os.Getenv("IMAGES_DIR")
	for _, f := range []string{helm, filepath.Join(images, "pgbouncer.tar")} {
		if _, err := os.Stat(f); helm == "" || images == "" || err != nil { //nolint:gosec // paths from make test-cluster
			if os.Getenv("CI") == "true" {
				t.Fatalf("HELM and IMAGES_DIR must name helm and the images of make images (%q): run make test-cluster", f)
			}
			t.Skipf("no helm or images (%q): run make test-cluster", f)
		}
	}
	return helm, images
}

func linksClient(t *testing.T, n *localnode.Node) client.Client {
	t.Helper()
	return linksClientAs(t, n.Config)
}

// linksClientAs is a client for ShortLinks (and core objects) with the identity of cfg.
func linksClientAs(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	log.SetLogger(logr.Discard()) // the client logs nothing a test reads
	scheme := runtime.NewScheme()
	if err := linksv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestChartOnTheNode is issue 15's proofs for the chart: installed into a namespace that
// enforces the restricted Pod Security Standard, every Pod Ready without a warning or a
// restart; the samples redirect through the redirector Service and count their visits; the
// wiring inside the cluster is the documented one; and an uninstall keeps every ShortLink for
// a reinstall to serve.
func TestChartOnTheNode(t *testing.T) {
	n := node(t)
	helm, images := platformTools(t)
	ctx := context.Background()
	root := repoRoot(t)
	installing := time.Now()
	p, err := localcluster.InstallChart(ctx, n, localcluster.Options{Root: root, Helm: helm, Images: images, Namespace: chartNamespace})
	if err != nil {
		dumpNamespace(t, n, chartNamespace)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("helm install to every Pod Ready in %s", time.Since(installing).Round(time.Second))
	t.Cleanup(func() { removeChart(t, n, root, helm) })
	expectNoPodSecurityWarning(t, "helm install", p.Warnings)
	expectPodSecurityWarns(t, n, chartNamespace)
	redirector, err := p.RedirectorURL(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("samples redirect and count visits", func(t *testing.T) {
		kubectl(t, n, "create", "namespace", linksNamespace)
		kubectl(t, n, "apply", "-n", linksNamespace, "-k", filepath.Join(root, "config/samples"))
		expectSamplesServed(t, n, redirector)
		expectVisitsCounted(t, n)
	})
	t.Run("the webhook denies at apply", func(t *testing.T) { expectWebhookDenies(t, n) })
	t.Run("wiring inside the cluster", func(t *testing.T) {
		expectRedirectorsBehindPgBouncer(t, n, p)
		expectManagerLeads(t, n, chartNamespace)
		expectMetricsThroughServices(t, n, chartNamespace)
		expectManagerRoleBounded(t, n, chartNamespace)
	})
	t.Run("no restarts", func(t *testing.T) { expectNoRestarts(t, n, chartNamespace) })
	t.Run("uninstall keeps the links, a reinstall serves them", func(t *testing.T) {
		if _, _, err := localcluster.Command(ctx, n, root, helm, "uninstall", localcluster.Release, "-n", chartNamespace, "--wait"); err != nil {
			t.Fatal(err)
		}
		c := linksClient(t, n)
		var links linksv1.ShortLinkList
		if err := c.List(ctx, &links, client.InNamespace(linksNamespace)); err != nil {
			t.Fatalf("the ShortLinks after helm uninstall (CRD gone?): %v", err)
		}
		if len(links.Items) != len(samples) {
			t.Fatalf("%d ShortLinks after helm uninstall, want the %d samples", len(links.Items), len(samples))
		}
		if _, _, err := localcluster.Command(ctx, n, root, helm, "install", localcluster.Release, "charts/shortlink",
			"-n", chartNamespace, "-f", localcluster.ValuesFile); err != nil {
			t.Fatal(err)
		}
		if err := localcluster.WaitReady(ctx, clientset(t, n), chartNamespace, 5*time.Minute); err != nil {
			dumpNamespace(t, n, chartNamespace)
			t.Fatal(err)
		}
		// The redirectors start empty (Redis aside); PostgreSQL still holds every row. The
		// Service is a new one, with a new ClusterIP.
		redirector, err := p.RedirectorURL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		expectSamplesServed(t, n, redirector)
		expectNoRestarts(t, n, chartNamespace)
	})
}

// TestKustomizeOnTheNode is issue 15's second proof: `kubectl apply -k` of a test overlay of
// config/default, with backends of its own (the chart's install is gone by now), gives the same
// result.
func TestKustomizeOnTheNode(t *testing.T) {
	n := node(t)
	_, images := platformTools(t)
	ctx := context.Background()
	applying := time.Now()
	p, err := localcluster.InstallKustomize(ctx, n, localcluster.Options{Images: images})
	if err != nil {
		dumpNamespace(t, n, localcluster.KustomizeNamespace)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() {
		_, _ = kubectlErr(n, "", "delete", "namespace", localcluster.KustomizeNamespace, "--wait=false")
		deleteCRDs(n)
	})
	t.Logf("kubectl apply -k to every Pod Ready in %s", time.Since(applying).Round(time.Second))
	expectNoPodSecurityWarning(t, "kubectl apply -k", p.Warnings)
	redirector, err := p.RedirectorURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, n, "create", "namespace", linksNamespace)
	t.Cleanup(func() { deleteLinks(t, n) })
	kubectl(t, n, "apply", "-n", linksNamespace, "-k", filepath.Join(repoRoot(t), "config/samples"))
	expectSamplesServed(t, n, redirector)
	expectVisitsCounted(t, n)
	expectNoRestarts(t, n, localcluster.KustomizeNamespace)
}

// loopLink is a ShortLink whose target is on the node's own served domain: the URL policy
// refuses it, and only the manager's Go code can tell (no CRD rule knows the served domains).
const loopLink = `apiVersion: links.shortlink.dev/v1alpha1
kind: ShortLink
metadata:
  name: loop
spec:
  target: https://links.node.test/docs
`

// expectWebhookDenies: the API server reaches the manager's webhook through its Service, with
// the certificate the leader wrote and the caBundle it patched in, so a server-side dry run of
// a refused link is denied by the webhook, not merely admitted (failurePolicy Ignore would
// admit it while the webhook cannot be reached). Polled: the leader certifies after it starts.
func expectWebhookDenies(t *testing.T, n *localnode.Node) {
	t.Helper()
	eventually(t, 2*time.Minute, func() error {
		out, err := kubectlErr(n, loopLink, "apply", "-n", linksNamespace, "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(out+err.Error(), "denied the request") {
			return fmt.Errorf("dry-run apply of a looping link: %v, output %q; want the webhook's denial", err, out)
		}
		return nil
	})
}

// expectNoPodSecurityWarning: an install's stderr carries no PodSecurity warning.
func expectNoPodSecurityWarning(t *testing.T, install, warnings string) {
	t.Helper()
	if strings.Contains(warnings, "PodSecurity") || strings.Contains(warnings, "violate") {
		t.Errorf("%s warned:\n%s", install, warnings)
	}
}

// expectPodSecurityWarns is the control for the checks on warnings: in the namespace, a
// Deployment whose pods run privileged is warned about on stderr, where the checks look.
func expectPodSecurityWarns(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	out, err := kubectlErr(n, "", "-n", ns, "create", "deployment", "privileged", "--image=shortlink.dev/cluster/pause:v1",
		"--dry-run=client", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	privileged := strings.Replace(out, `"resources": {}`, `"resources": {}, "securityContext": {"privileged": true}`, 1)
	cmd := exec.Command(n.Kubectl, "--kubeconfig", n.Kubeconfig, "-n", ns, "apply", "--dry-run=server", "-f", "-") //nolint:gosec // the node's kubectl
	cmd.Stdin = strings.NewReader(privileged)
	stderrOut, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(stderrOut), "would violate PodSecurity") {
		t.Fatalf("a privileged Deployment in %s: %v, output %s; want a PodSecurity warning", ns, err, stderrOut)
	}
}

// samples are config/samples by name: the code each takes, a path to ask for, and the answer.
var samples = map[string]struct {
	code, path, location string
	status               int
}{
	"docs":        {"docs", "/docs", "https://example.com/documentation", http.StatusFound},
	"summer-sale": {"summer", "/summer", "https://shop.example.com/sale?campaign=summer", http.StatusFound},
	"home":        {"home", "/home", "https://example.com/", http.StatusMovedPermanently},
	"guide":       {"guide", "/guide/start?x=1", "https://docs.example.com/guide/start?lang=en&x=1", http.StatusFound},
}

// expectSamplesServed: each sample is Ready and its code redirects to its target through the
// redirector Service's ClusterIP, as the in-cluster ingress would reach it.
func expectSamplesServed(t *testing.T, n *localnode.Node, redirector string) {
	t.Helper()
	c := linksClient(t, n)
	want := samples
	for name, w := range want {
		eventually(t, 2*time.Minute, func() error {
			var sl linksv1.ShortLink
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: linksNamespace, Name: name}, &sl); err != nil {
				return err
			}
			if sl.Status.Code != w.code {
				return fmt.Errorf("shortlink %s: status.code %q, want %q (conditions %v)", name, sl.Status.Code, w.code, sl.Status.Conditions)
			}
			return expectRedirectAnswer(redirector, w.path, w.status, w.location)
		})
	}
}

// noFollow reads a redirect instead of following it.
var noFollow = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// expectRedirectAnswer asks the redirector for path on the node's domain and wants status and
// location; it says what came instead.
func expectRedirectAnswer(redirector, path string, status int, location string) error {
	req, err := http.NewRequest(http.MethodGet, redirector+path, nil) //nolint:noctx // bounded by the client's timeout
	if err != nil {
		return err
	}
	req.Host = nodeDomain
	resp, err := noFollow.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != status || resp.Header.Get("Location") != location {
		return fmt.Errorf("GET %s%s: %d %q, want %d %q", redirector, path, resp.StatusCode, resp.Header.Get("Location"), status, location)
	}
	return nil
}

// expectVisitsCounted: the redirects above show in each sample's status. They come from Go's
// HTTP client, a script, so they are counted in botVisits (internal/bots), not as people's.
func expectVisitsCounted(t *testing.T, n *localnode.Node) {
	t.Helper()
	c := linksClient(t, n)
	for name := range samples {
		eventually(t, 2*time.Minute, func() error {
			var sl linksv1.ShortLink
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: linksNamespace, Name: name}, &sl); err != nil {
				return err
			}
			if sl.Status.Visits+sl.Status.BotVisits < 1 {
				return fmt.Errorf("shortlink %s: status.visits %d, botVisits %d, want at least 1 visit", name, sl.Status.Visits, sl.Status.BotVisits)
			}
			return nil
		})
	}
}

// expectRedirectorsBehindPgBouncer: the redirectors' database URL names the PgBouncer Service
// by DNS name, and PostgreSQL sees the platform's role only from PgBouncer and the manager,
// never from a redirector pod.
func expectRedirectorsBehindPgBouncer(t *testing.T, n *localnode.Node, p *localcluster.Platform) {
	t.Helper()
	ctx := context.Background()
	cs := clientset(t, n)
	secret, err := cs.CoreV1().Secrets(chartNamespace).Get(ctx, localcluster.BackendsSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if url := string(secret.Data["pgbouncer-url"]); !strings.Contains(url, "@shortlink-pgbouncer:5432/") {
		t.Fatalf("pgbouncer-url %q does not name the PgBouncer Service", url)
	}
	ips := podIPs(t, cs, chartNamespace)
	conn, err := pgx.Connect(ctx, p.Backends.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	eventually(t, time.Minute, func() error {
		rows, err := conn.Query(ctx, `SELECT DISTINCT host(client_addr) FROM pg_stat_activity
			WHERE usename = $1 AND client_addr IS NOT NULL AND host(client_addr) <> '127.0.0.1'`, localcluster.User)
		if err != nil {
			return err
		}
		addrs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, a := range addrs {
			component := ips[a]
			if component != "pgbouncer" && component != "manager" {
				t.Fatalf("PostgreSQL has a connection from %s (%q): only PgBouncer and the manager may connect", a, component)
			}
			seen[component] = true
		}
		if !seen["pgbouncer"] || !seen["manager"] {
			return fmt.Errorf("connections from %v, want PgBouncer's and the manager's", addrs)
		}
		return nil
	})
}

// podIPs maps each pod IP in ns to its app.kubernetes.io/component label.
func podIPs(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ips := map[string]string{}
	for _, p := range pods.Items {
		ips[p.Status.PodIP] = p.Labels["app.kubernetes.io/component"]
	}
	return ips
}

// expectManagerLeads: a manager pod holds the leader Lease.
func expectManagerLeads(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	cs := clientset(t, n)
	eventually(t, 2*time.Minute, func() error {
		lease, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), "shortlink-manager.links.shortlink.dev", metav1.GetOptions{})
		if err != nil {
			return err
		}
		holder := ""
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=manager"})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if strings.HasPrefix(holder, p.Name) {
				return nil
			}
		}
		return fmt.Errorf("lease holder %q is no manager pod", holder)
	})
}

// expectMetricsThroughServices: /metrics answers through the manager's metrics Service and the
// redirector Service, and on every pod behind them.
func expectMetricsThroughServices(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	cs := clientset(t, n)
	ctx := context.Background()
	for svcName, prefix := range map[string]string{"shortlink-manager-metrics": "shortlink_", "shortlink-redirector": "shortlink_redirect"} {
		svc, err := cs.CoreV1().Services(ns).Get(ctx, svcName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var port int32
		for _, p := range svc.Spec.Ports {
			if strings.Contains(p.Name, "metrics") {
				port = p.Port
			}
		}
		targets := []string{fmt.Sprintf("%s:%d", svc.Spec.ClusterIP, port)}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector})})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			targets = append(targets, fmt.Sprintf("%s:%d", p.Status.PodIP, containerPort(&p, port, svc)))
		}
		for _, target := range targets {
			eventually(t, time.Minute, func() error { return metricsAnswer("http://"+target+"/metrics", prefix) })
		}
	}
}

// containerPort is the pod's port behind the Service's port.
func containerPort(p *corev1.Pod, servicePort int32, svc *corev1.Service) int32 {
	for _, sp := range svc.Spec.Ports {
		if sp.Port != servicePort {
			continue
		}
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal || cp.ContainerPort == sp.TargetPort.IntVal {
					return cp.ContainerPort
				}
			}
		}
	}
	return servicePort
}

func metricsAnswer(url, prefix string) error {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url) //nolint:noctx // a bounded probe in a test
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), prefix) {
		return fmt.Errorf("GET %s: %d, %d bytes, want 200 with %s metrics", url, resp.StatusCode, len(body), prefix)
	}
	return nil
}

// expectManagerRoleBounded: the manager's log has no "forbidden" line, and its service account
// is refused what its role does not grant (reading Secrets in another namespace).
func expectManagerRoleBounded(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	logs := kubectl(t, n, "-n", ns, "logs", "deployment/shortlink-manager", "--all-containers")
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("manager log has a forbidden line: %s", line)
		}
	}
	cfg := rest.CopyConfig(n.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":shortlink-manager"}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = as.CoreV1().Secrets("kube-system").List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("the manager's service account listing Secrets in kube-system: %v, want Forbidden", err)
	}
	// And what it must be able to do, so the refusal above is not a wrong identity.
	var links linksv1.ShortLinkList
	if err := linksClientAs(t, cfg).List(context.Background(), &links); err != nil {
		t.Errorf("the manager's service account listing ShortLinks: %v", err)
	}
}

// expectNoRestarts: no container in ns has restarted.
func expectNoRestarts(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	pods, err := clientset(t, n).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, s := range p.Status.ContainerStatuses {
			if s.RestartCount > 0 {
				t.Errorf("pod %s container %s restarted %d times", p.Name, s.Name, s.RestartCount)
			}
		}
	}
}

// removeChart deletes the samples while the manager still runs (it removes their finalizers),
// uninstalls the chart, and deletes its namespace and the kept CRD: the next install starts
// from nothing.
func removeChart(t *testing.T, n *localnode.Node, root, helm string) {
	t.Helper()
	deleteLinks(t, n)
	_, _, _ = localcluster.Command(context.Background(), n, root, helm, "uninstall", localcluster.Release, "-n", chartNamespace, "--wait")
	_, _ = kubectlErr(n, "", "delete", "namespace", chartNamespace, "--wait=false")
	deleteCRDs(n)
}

// deleteCRDs deletes every CRD the chart keeps on uninstall (helm.sh/resource-policy: keep),
// so the next install, in another namespace, owns them anew.
func deleteCRDs(n *localnode.Node) {
	_, _ = kubectlErr(n, "", "delete", "crd", "shortlinks.links.shortlink.dev", "shortlinkdomains.links.shortlink.dev", "--ignore-not-found")
}

func deleteLinks(t *testing.T, n *localnode.Node) {
	t.Helper()
	if _, err := kubectlErr(n, "", "delete", "namespace", linksNamespace, "--timeout=90s"); err != nil && !strings.Contains(err.Error(), "NotFound") {
		t.Logf("delete namespace %s: %v", linksNamespace, err)
	}
	eventually(t, 2*time.Minute, func() error {
		_, err := clientset(t, n).CoreV1().Namespaces().Get(context.Background(), linksNamespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.Join(err, fmt.Errorf("namespace %s still there", linksNamespace))
	})
}

// dumpNamespace logs what a person needs to see why an install did not become Ready.
func dumpNamespace(t *testing.T, n *localnode.Node, ns string) {
	t.Helper()
	out, err := kubectlErr(n, "", "-n", ns, "get", "pods,deployments,events", "-o", "wide")
	t.Logf("namespace %s: %v\n%s", ns, err, out)
	for _, d := range []string{"shortlink-manager", "shortlink-redirector", "shortlink-pgbouncer"} {
		logs, err := kubectlErr(n, "", "-n", ns, "logs", "deployment/"+d, "--tail=30")
		t.Logf("%s log: %v\n%s", d, err, logs)
	}
}
