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

// With redirector.database.replica.enabled, the chart runs a second PgBouncer whose
// [databases] come from the Secret's pgbouncer-replica-databases.ini, admits only the
// redirectors to it, and gives the redirectors the replica's URL and lag bound; without it,
// nothing of the replica is rendered.
func TestChartReadReplicaHasAPgBouncerOfItsOwn(t *testing.T) {
	name := release + "-pgbouncer-replica"
	r := &rendering{name: "helm replica", objs: decode(t, helmTemplate(t, release,
		"--set", "redirector.database.replica.enabled=true", "--set", "redirector.database.replica.maxLagSeconds=3",
		"--set", "networkPolicy.enabled=true"))}
	for _, kind := range []string{"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"} {
		if r.find(kind)[name] == nil {
			t.Errorf("no %s %s", kind, name)
		}
	}
	d := r.find("Deployment")[name]
	if d == nil {
		t.FailNow()
	}
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	var keys []string
	for _, v := range volumes {
		items, _, _ := unstructured.NestedSlice(v.(map[string]any), "secret", "items")
		for _, it := range items {
			keys = append(keys, it.(map[string]any)["key"].(string))
		}
	}
	if !slices.Contains(keys, "pgbouncer-replica-databases.ini") || slices.Contains(keys, "pgbouncer-databases.ini") {
		t.Errorf("the replica's PgBouncer reads Secret keys %v; want pgbouncer-replica-databases.ini, not the primary's", keys)
	}
	env := envNames(containers(t, r.find("Deployment")[release+"-redirector"])[0])
	for _, want := range []string{"DATABASE_REPLICA_URL<-pgbouncer-replica-url", "DATABASE_REPLICA_MAX_LAG=3s", "DATABASE_URL<-pgbouncer-url"} {
		if !slices.Contains(env, want) {
			t.Errorf("redirector environment %v lacks %s", env, want)
		}
	}

	for _, o := range render(t, helmDefault).objs {
		if strings.Contains(o.GetName(), "replica") {
			t.Errorf("default values render %s %s", o.GetKind(), o.GetName())
		}
	}
	for _, e := range envNames(containers(t, render(t, helmDefault).find("Deployment")[release+"-redirector"])[0]) {
		if strings.HasPrefix(e, "DATABASE_REPLICA") {
			t.Errorf("default values give the redirector %s", e)
		}
	}
}
