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
	"os/exec"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestGeoIPDatabaseMounted: redirector.geoip mounts the volume read-only and points
// GEOIP_DATABASE at the file in it; without a volume the chart refuses to render, rather than
// start redirectors that cannot open the file; unset, nothing geo is rendered.
func TestGeoIPDatabaseMounted(t *testing.T) {
	out := helmTemplate(t, release, "--set", "redirector.geoip.database=GeoLite2-Country.mmdb",
		"--set", "redirector.geoip.volume.secret.secretName=geolite2")
	r := &rendering{name: "helm with redirector.geoip", objs: decode(t, out)}
	d := r.component(t, "redirector")
	c := containers(t, d)[0]
	if got := envValue(c, "GEOIP_DATABASE"); got != "/var/lib/geoip/GeoLite2-Country.mmdb" {
		t.Errorf("GEOIP_DATABASE = %q, want /var/lib/geoip/GeoLite2-Country.mmdb", got)
	}
	if !hasMount(c, "geoip", "/var/lib/geoip") {
		t.Errorf("no read-only mount of volume geoip at /var/lib/geoip: %v", c["volumeMounts"])
	}
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	found := false
	for _, v := range volumes {
		m := v.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "secret", "secretName")
		found = found || (m["name"] == "geoip" && name == "geolite2")
	}
	if !found {
		t.Errorf("no volume geoip from Secret geolite2: %v", volumes)
	}

	cmd := exec.Command(tool(t, "HELM", "helm"), "template", release, "charts/shortlink", "--kube-version", minKubeVersion,
		"--set", "redirector.geoip.database=GeoLite2-Country.mmdb")
	cmd.Dir = repoRoot(t)
	if msg, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(msg), "redirector.geoip.volume is required") {
		t.Errorf("a database without a volume rendered (%v): %s", err, msg)
	}

	c = containers(t, render(t, helmDefault).component(t, "redirector"))[0]
	if got := envValue(c, "GEOIP_DATABASE"); got != "" || hasMount(c, "geoip", "/var/lib/geoip") {
		t.Errorf("default values render GEOIP_DATABASE %q or a geoip mount", got)
	}
}

// hasMount reports whether container c mounts volume name at path read-only.
func hasMount(c map[string]any, name, path string) bool {
	mounts, _ := c["volumeMounts"].([]any)
	for _, m := range mounts {
		mm := m.(map[string]any)
		if mm["name"] == name && mm["mountPath"] == path && mm["readOnly"] == true {
			return true
		}
	}
	return false
}
