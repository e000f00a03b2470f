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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

const (
	argoHealthScript = "../charts/shortlink/files/argocd/shortlink-health.lua"
	argoCMPatch      = "../charts/shortlink/files/argocd/argocd-cm-patch.yaml"
	argoHealthKey    = "resource.customizations.health.links.shortlink.dev_ShortLink"
	// argoDomainHealthKey carries the same script for ShortLinkDomains.
	argoDomainHealthKey = "resource.customizations.health.links.shortlink.dev_ShortLinkDomain"
)

// gitOpsCase is one ShortLink outcome as the controller produced it, with the health Argo CD
// and kstatus (Flux) must read from it.
type gitOpsCase struct {
	name    string
	produce func(t *testing.T, ns string) *linksv1.ShortLink
	argo    string
	kstatus status.Status // empty: kstatus cannot tell (see the case)
	// condition is the kstatus condition the object must carry ("" = neither).
	condition string
}

// TestGitOpsHealthOfLinksTheControllerProduced runs the Argo CD Lua health check and kstatus
// on ShortLinks the running controller wrote, one per outcome.
func TestGitOpsHealthOfLinksTheControllerProduced(t *testing.T) {
	script := readFile(t, argoHealthScript)
	cases := []gitOpsCase{
		{"ready", produceReady, "Healthy", status.CurrentStatus, ""},
		{"code conflict", produceConflict, "Degraded", status.FailedStatus, linksv1.ConditionStalled},
		{"blocked", produceRefused(linksv1.ReasonBlocked, "https://login.evil.example/x"), "Degraded", status.FailedStatus, linksv1.ConditionStalled},
		{"invalid target", produceRefused(linksv1.ReasonInvalidTarget, "https://user:pw@example.com/"), "Degraded", status.FailedStatus, linksv1.ConditionStalled},
		{"not allowed", produceNotAllowed, "Degraded", status.FailedStatus, linksv1.ConditionStalled},
		{"database unavailable", produceOutage, "Progressing", status.InProgressStatus, linksv1.ConditionReconciling},
		{"stale generation", produceStale, "Progressing", status.InProgressStatus, ""},
		// kstatus reads an object without status as Current: nothing in it says otherwise.
		{"no status yet", produceNew, "Progressing", "", ""},
	}
	setBlocklist(t, "evil.example")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sl := tc.produce(t, newNamespace(t))
			assertGitOpsConditions(t, sl, tc.condition)
			u := toUnstructured(t, sl)
			if got, msg := argoHealth(t, script, u); got != tc.argo {
				t.Errorf("Argo CD health = %s (%s), want %s", got, msg, tc.argo)
			}
			if tc.kstatus == "" {
				return
			}
			res, err := status.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.kstatus {
				t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, tc.kstatus)
			}
		})
	}
}

// TestGitOpsConditionsClearWhenTheLinkRecovers proves Reconciling goes once PostgreSQL is
// back, so Flux sees the link Current again.
func TestGitOpsConditionsClearWhenTheLinkRecovers(t *testing.T) {
	ns := newNamespace(t)
	startPostgres := localenv.StopForTest(t, env.Postgres)
	sl := create(t, shortLink(ns, "recovers-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	assertGitOpsConditions(t, waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonDatabaseUnavailable), linksv1.ConditionReconciling)
	startPostgres()
	got := waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
	assertGitOpsConditions(t, got, "")
	res, err := status.Compute(toUnstructured(t, got))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != status.CurrentStatus {
		t.Fatalf("kstatus after recovery = %s (%s), want Current", res.Status, res.Message)
	}
}

// TestArgoCDHealthOfAReasonNewerThanTheScript: an operator newer than the pasted script may
// report a reason the script does not list; Stalled then decides, as it does for kstatus.
func TestArgoCDHealthOfAReasonNewerThanTheScript(t *testing.T) {
	script := readFile(t, argoHealthScript)
	for _, tc := range []struct {
		stalled bool
		want    string
	}{{true, "Degraded"}, {false, "Progressing"}} {
		sl := shortLink("ns", "future", linksv1.ShortLinkSpec{Target: "https://example.com/"})
		sl.Generation, sl.Status.ObservedGeneration = 2, 2
		setCondition(sl, linksv1.ConditionReady, metav1.ConditionFalse, "SomethingNew", "a reason from the future")
		if tc.stalled {
			setProgress(sl)
		}
		if got, msg := argoHealth(t, script, toUnstructured(t, sl)); got != tc.want {
			t.Errorf("Stalled %v: Argo CD health = %s (%s), want %s", tc.stalled, got, msg, tc.want)
		}
	}
}

// TestKubectlWaitForReady proves the README's `kubectl wait --for=condition=Ready sl/NAME`.
func TestKubectlWaitForReady(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "awaited-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	out, err := exec.Command(filepath.Join(env.Kube.AssetsDir, "kubectl"), "--kubeconfig", env.Kube.Kubeconfig, //nolint:gosec // our own binary
		"-n", ns, "wait", "--for=condition=Ready", "sl/"+sl.Name, "--timeout=60s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "condition met") {
		t.Fatalf("kubectl wait = %q, %v", out, err)
	}
}

// TestArgoCDSnippetCarriesTheScript keeps the ready-to-paste argocd-cm patch and the script
// it carries from drifting apart.
func TestArgoCDSnippetCarriesTheScript(t *testing.T) {
	var patch struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.UnmarshalStrict([]byte(readFile(t, argoCMPatch)), &patch); err != nil {
		t.Fatalf("parse %s: %v", argoCMPatch, err)
	}
	for _, key := range []string{argoHealthKey, argoDomainHealthKey} {
		if got, want := patch.Data[key], readFile(t, argoHealthScript); got != want {
			t.Errorf("%s key %s differs from %s: paste the script in again, indented 4 spaces", argoCMPatch, key, argoHealthScript)
		}
	}
}

// TestGitOpsHealthOfDomainsTheControllerProduced: the same script and kstatus read a
// ShortLinkDomain the controller wrote: Healthy and Current when it governs its host, Degraded
// and Failed when an older object does (HostConflict, Stalled).
func TestGitOpsHealthOfDomainsTheControllerProduced(t *testing.T) {
	script := readFile(t, argoHealthScript)
	ns := newNamespace(t)
	host := ns + ".health.example"
	older := createDomain(t, teamDomain(ns+"-older", host, nil))
	waitDomainReason(t, older, linksv1.ReasonSynced)
	younger := createDomain(t, teamDomain(ns+"-younger", host, nil))
	for _, tc := range []struct {
		d       *linksv1.ShortLinkDomain
		reason  string
		argo    string
		kstatus status.Status
	}{
		{older, linksv1.ReasonSynced, "Healthy", status.CurrentStatus},
		{younger, linksv1.ReasonHostConflict, "Degraded", status.FailedStatus},
	} {
		got := waitDomainReason(t, tc.d, tc.reason)
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(got)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(linksv1.GroupVersion.WithKind("ShortLinkDomain"))
		if h, msg := argoHealth(t, script, u); h != tc.argo {
			t.Errorf("%s: Argo CD health = %s (%s), want %s", tc.reason, h, msg, tc.argo)
		}
		res, err := status.Compute(u)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != tc.kstatus {
			t.Errorf("%s: kstatus = %s (%s), want %s", tc.reason, res.Status, res.Message, tc.kstatus)
		}
	}
}

// waitDomainReason waits until d's Ready has reason at its current generation.
func waitDomainReason(t *testing.T, d *linksv1.ShortLinkDomain, reason string) *linksv1.ShortLinkDomain {
	t.Helper()
	var got *linksv1.ShortLinkDomain
	waitFor(t, d.Name+" Ready reason "+reason, func() (bool, string) {
		got = getDomain(t, d)
		c := condition2(got.Status.Conditions)
		return c != nil && c.Reason == reason && got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("%+v", c)
	})
	return got
}

// Codes are unique across namespaces on a domain, so each name carries its namespace.
func produceReady(t *testing.T, ns string) *linksv1.ShortLink {
	sl := create(t, shortLink(ns, "healthy-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	return waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
}

func produceConflict(t *testing.T, ns string) *linksv1.ShortLink {
	code := "held-" + ns
	ghostHolds(t, code)
	sl := create(t, shortLink(ns, "late-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/", Code: code}))
	return waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonCodeConflict)
}

func produceRefused(reason, target string) func(*testing.T, string) *linksv1.ShortLink {
	return func(t *testing.T, ns string) *linksv1.ShortLink {
		sl := create(t, shortLink(ns, "refused-"+ns, linksv1.ShortLinkSpec{Target: linksv1.TargetURL(target)}))
		return waitReady(t, sl, metav1.ConditionFalse, reason)
	}
}

// produceNotAllowed puts a link on a domain whose object admits no namespace.
func produceNotAllowed(t *testing.T, ns string) *linksv1.ShortLink {
	host := ns + ".closed.example"
	createDomain(t, teamDomain(ns+"-closed", host, map[string]string{"team": "nobody"}))
	sl := create(t, onDomain(ns, "refused-"+ns, host, "closed"))
	return waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonNotAllowed)
}

func produceOutage(t *testing.T, ns string) *linksv1.ShortLink {
	startPostgres := localenv.StopForTest(t, env.Postgres)
	defer startPostgres()
	sl := create(t, shortLink(ns, "waiting-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
	return waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonDatabaseUnavailable)
}

// produceStale returns the object as the API server answered a spec change: the new
// generation beside the status the controller wrote for the one before.
func produceStale(t *testing.T, ns string) *linksv1.ShortLink {
	sl := produceReady(t, ns)
	sl.Spec.Target = "https://example.com/moved"
	if err := k8s.Update(context.Background(), sl); err != nil {
		t.Fatal(err)
	}
	if sl.Status.ObservedGeneration == sl.Generation {
		t.Fatalf("update answered generation %d already observed", sl.Generation)
	}
	return sl
}

// produceNew returns the object as the API server answered its creation, before any reconcile.
func produceNew(t *testing.T, ns string) *linksv1.ShortLink {
	return create(t, shortLink(ns, "new-"+ns, linksv1.ShortLinkSpec{Target: "https://example.com/"}))
}

// assertGitOpsConditions checks that want ("" for none) is the only kstatus condition present,
// True, with Ready's reason.
func assertGitOpsConditions(t *testing.T, sl *linksv1.ShortLink, want string) {
	t.Helper()
	for _, typ := range []string{linksv1.ConditionReconciling, linksv1.ConditionStalled} {
		c := condition(sl, typ)
		switch {
		case typ != want && c != nil:
			t.Errorf("%s present: %+v", typ, *c)
		case typ == want && c == nil:
			t.Errorf("%s missing; conditions %+v", typ, sl.Status.Conditions)
		case typ == want && (c.Status != metav1.ConditionTrue || c.Reason != condition(sl, linksv1.ConditionReady).Reason):
			t.Errorf("%s = %s/%s, want True with Ready's reason", typ, c.Status, c.Reason)
		}
	}
}

func toUnstructured(t *testing.T, sl *linksv1.ShortLink) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(sl)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(linksv1.GroupVersion.WithKind("ShortLink"))
	return u
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // a path of this repository
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// argoHealth runs a health script as Argo CD's util/lua does and returns its verdict.
func argoHealth(t *testing.T, script string, u *unstructured.Unstructured) (health, message string) {
	t.Helper()
	l, err := runArgoLua(script, luaObject(u))
	if err != nil {
		t.Fatalf("health script: %v", err)
	}
	defer l.Close()
	res, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health script returned %s, want a table", l.Get(-1).Type())
	}
	return lua.LVAsString(res.RawGetString("status")), lua.LVAsString(res.RawGetString("message"))
}

// runArgoLua runs script with only the libraries Argo CD opens: package, base and table, and
// an os with time and date; so a script calling the string library or string methods fails
// here as it would there. The caller closes the state.
func runArgoLua(script string, obj func(*lua.LState) lua.LValue) (*lua.LState, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			l.Close()
			return nil, fmt.Errorf("open %s: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", obj(l))
	if err := l.DoString(script); err != nil {
		l.Close()
		return nil, err
	}
	l.RemoveContext()
	return l, nil
}

func luaObject(u *unstructured.Unstructured) func(*lua.LState) lua.LValue {
	return func(l *lua.LState) lua.LValue { return luaValue(l, u.Object) }
}

// TestArgoLuaOpensOnlyArgoCDsLibraries keeps the harness honest: what Argo CD refuses, it
// refuses, so the health tests above prove the script runs there.
func TestArgoLuaOpensOnlyArgoCDsLibraries(t *testing.T) {
	none := func(*lua.LState) lua.LValue { return lua.LNil }
	for _, script := range []string{
		`return string.find("a", "a")`,
		`local s = "Ready"; return s:lower()`,
		`return io.open("/etc/hostname")`,
		`return os.getenv("HOME")`,
	} {
		if l, err := runArgoLua(script, none); err == nil {
			l.Close()
			t.Errorf("%s ran; Argo CD would refuse it", script)
		}
	}
	for _, script := range []string{`return table.concat({"a", "b"}, ",") .. tostring(os.time())`, `return require("os").date()`} {
		l, err := runArgoLua(script, none)
		if err != nil {
			t.Errorf("%s: %v; Argo CD allows it", script, err)
			continue
		}
		l.Close()
	}
}

// openSafeOs opens an os library with only time and date, the subset Argo CD allows.
func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, map[string]lua.LGFunction{
		"time": func(l *lua.LState) int { l.Push(lua.LNumber(time.Now().Unix())); return 1 },
		"date": func(l *lua.LState) int { l.Push(lua.LString(time.Now().UTC().Format(time.RFC3339))); return 1 },
	}))
	return 1
}

// luaValue turns an unstructured value into Lua: maps into tables, lists into 1-based tables.
func luaValue(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case map[string]any:
		tbl := l.NewTable()
		for k, e := range v {
			tbl.RawSetString(k, luaValue(l, e))
		}
		return tbl
	case []any:
		tbl := l.NewTable()
		for _, e := range v {
			tbl.Append(luaValue(l, e))
		}
		return tbl
	default:
		panic(fmt.Sprintf("no Lua value for %T", v))
	}
}
