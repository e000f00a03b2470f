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

package links

import (
	"reflect"
	"testing"
	"time"
)

func TestSameDeclaration(t *testing.T) {
	base := Link{
		Domain: "go.example.com", Code: "c", Target: "https://example.com/", RedirectType: 302,
		ValidSince: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Tags: []string{"a"},
		Source: SourceK8s, Owner: "ns/n", OwnerUID: "u1", Version: 3,
	}
	same := base
	same.Version = 9
	same.ValidSince = base.ValidSince.In(time.FixedZone("x", 3600))
	same.Tags = []string{"a"}
	if !base.SameDeclaration(same) {
		t.Fatal("links differing only in version and time zone are not the same declaration")
	}
	changes := map[string]func(*Link){
		"target":        func(l *Link) { l.Target = "https://example.org/" },
		"redirect type": func(l *Link) { l.RedirectType = 301 },
		"forward query": func(l *Link) { l.ForwardQuery = true },
		"valid until":   func(l *Link) { l.ValidUntil = time.Now() },
		"expired":       func(l *Link) { l.ExpiredTarget = "https://example.org/" },
		"suspended":     func(l *Link) { l.Suspended = true },
		"tags":          func(l *Link) { l.Tags = []string{"b"} },
		"owner uid":     func(l *Link) { l.OwnerUID = "u2" },
	}
	for name, change := range changes {
		other := base
		other.Tags = []string{"a"}
		change(&other)
		if base.SameDeclaration(other) {
			t.Errorf("a change of %s is not seen", name)
		}
	}
}

// SameDeclaration lists Link's fields by hand: a field it leaves out would make the operator
// keep a stale Redis entry. Every field but Version, changed, must be seen (issue 20 item 2).
func TestSameDeclarationSeesEveryField(t *testing.T) {
	base := Link{Domain: "d.example", Code: "c", Target: "https://example.com/", Tags: []string{"a"}}
	typ := reflect.TypeFor[Link]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if name == "Version" {
			continue
		}
		other := base
		other.Tags = []string{"a"}
		if !changeField(reflect.ValueOf(&other).Elem().Field(i)) {
			t.Errorf("no way to change field %s (%s): add one to changeField", name, typ.Field(i).Type)
			continue
		}
		if base.SameDeclaration(other) {
			t.Errorf("SameDeclaration does not see a change of %s", name)
		}
	}
}

// changeField sets f to a value other than the one it holds, and reports whether it could.
func changeField(f reflect.Value) bool {
	switch v := f.Addr().Interface().(type) {
	case *string:
		*v += "x"
	case *int:
		*v++
	case *int64:
		*v++
	case *bool:
		*v = !*v
	case *time.Time:
		*v = v.Add(time.Hour)
	case *[]string:
		*v = append(*v, "x")
	default:
		return false
	}
	return true
}
