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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
)

// A target's host is read as a browser reads it (WHATWG URL host parsing): an address in any
// spelling is stored, cached and served in its one canonical form, and a host ending in a number
// that is no IPv4 address, which no browser opens, is refused and writes nothing.
func TestTargetAddressesAreStoredAsBrowsersReadThem(t *testing.T) {
	ns := newNamespace(t)
	for name, tc := range map[string]struct{ target, want string }{
		"decimal":   {"http://2130706433/x", "http://127.0.0.1/x"},
		"octal":     {"http://0177.0.0.1/", "http://127.0.0.1/"},
		"hex-short": {"http://0x7f.1/", "http://127.0.0.1/"},
		"mapped":    {"http://[::ffff:127.0.0.1]:8080/", "http://[::ffff:7f00:1]:8080/"},
	} {
		sl := create(t, shortLink(ns, name, linksv1.ShortLinkSpec{Target: linksv1.TargetURL(tc.target)}))
		waitReady(t, sl, metav1.ConditionTrue, linksv1.ReasonSynced)
		if r, ok := row(t, "", name); !ok || r.Deleted || r.Target != tc.want {
			t.Errorf("%s: row = %+v, %v; want target %q", name, r, ok, tc.want)
		}
		waitFor(t, name+" in Redis", func() (bool, string) {
			e, ok := cacheEntry(name)
			return ok && !e.Deleted && e.Link.Target == tc.want, "redis entry not the canonical target"
		})
	}
	for name, target := range map[string]string{
		"bad-octal":    "http://1.2.3.08",
		"word-number":  "http://foo.09/",
		"big-octet":    "https://256.0.0.1/",
		"five-numbers": "http://1.2.3.4.5/",
	} {
		sl := create(t, shortLink(ns, name, linksv1.ShortLinkSpec{Target: linksv1.TargetURL(target)}))
		got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
		if c := condition(got, linksv1.ConditionReady); c == nil || c.Message == "" {
			t.Errorf("%s: Ready condition %+v has no message", name, c)
		}
		if r, ok := row(t, "", name); ok {
			t.Errorf("%s: row written for %q: %+v", name, target, r)
		}
		if _, ok := cacheEntry(name); ok {
			t.Errorf("%s: redis entry written for %q", name, target)
		}
	}
}

// One blocklist entry for an address blocks every spelling of it, the IPv4-mapped IPv6 one too.
func TestBlockedAddressBlocksEverySpelling(t *testing.T) {
	ns := newNamespace(t)
	setBlocklist(t, "127.0.0.1")
	for name, target := range map[string]string{
		"blk-decimal": "http://2130706433/",
		"blk-octal":   "http://0177.0.0.1/",
		"blk-hex":     "http://0x7f.1/",
		"blk-short":   "http://127.1/",
		"blk-mapped":  "http://[::ffff:127.0.0.1]/",
	} {
		sl := create(t, shortLink(ns, name, linksv1.ShortLinkSpec{Target: linksv1.TargetURL(target)}))
		waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonBlocked)
		if r, ok := row(t, "", name); ok && !r.Deleted {
			t.Errorf("%s: row serves a blocked address: %+v", name, r)
		}
	}
}

// A whole-script confusable target host is InvalidTarget and writes nothing; a genuine IDN
// under its own script's top-level domain is synced.
func TestWholeScriptConfusableTargetIsRefused(t *testing.T) {
	ns := newNamespace(t)
	sl := create(t, shortLink(ns, "fake-apple", linksv1.ShortLinkSpec{Target: "https://аррӏе.com/login"}))
	got := waitReady(t, sl, metav1.ConditionFalse, linksv1.ReasonInvalidTarget)
	if c := condition(got, linksv1.ConditionReady); c == nil || !strings.Contains(c.Message, "possible homograph") {
		t.Errorf("Ready condition = %+v, want a message naming the homograph", c)
	}
	if r, ok := row(t, "", "fake-apple"); ok {
		t.Fatalf("row written for a whole-script confusable: %+v", r)
	}
	idn := create(t, shortLink(ns, "real-idn", linksv1.ShortLinkSpec{Target: "https://пример.рф/"}))
	waitReady(t, idn, metav1.ConditionTrue, linksv1.ReasonSynced)
	if r, ok := row(t, "", "real-idn"); !ok || r.Target != "https://xn--e1afmkfd.xn--p1ai/" {
		t.Fatalf("row of a genuine IDN = %+v, %v", r, ok)
	}
}
