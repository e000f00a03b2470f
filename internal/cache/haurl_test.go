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

package cache

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseSentinelURL(t *testing.T) {
	o, err := parseSentinelURL("redis-sentinel://:p%40ss@h1:26379,h2:26380,[::1]:26381/mymaster/2?sentinel_password=sp&read_timeout=1s", SchemeSentinel)
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != "mymaster" || o.DB != 2 || o.Password != "p@ss" || o.SentinelPassword != "sp" || o.ReadTimeout != time.Second ||
		!slices.Equal(o.SentinelAddrs, []string{"h1:26379", "h2:26380", "[::1]:26381"}) || o.TLSConfig != nil {
		t.Fatalf("parsed %+v", o)
	}
	tightenFailover(o, ClientOptions{Name: "x"})
	if o.DialTimeout != DefaultTimeout || o.ReadTimeout != time.Second || o.MaxRetries != DefaultMaxRetries || o.DialerRetries != 1 || !o.ContextTimeoutEnabled {
		t.Fatalf("tightened %+v", o)
	}
	o, err = parseSentinelURL("rediss-sentinel://user:pw@h1:26379/m", SchemeSentinelTLS)
	if err != nil || o.Username != "user" || o.Password != "pw" || o.SentinelPassword != "" || o.DB != 0 || o.TLSConfig == nil || o.TLSConfig.ServerName != "" {
		t.Fatalf("TLS URL parsed %+v, %v; want TLS verifying each host's own name", o, err)
	}
}

func TestParseClusterURL(t *testing.T) {
	o, err := parseClusterURL("redis-cluster://:secret@n1:6379,n2:6380?max_redirects=4&pool_size=7", SchemeCluster)
	if err != nil {
		t.Fatal(err)
	}
	if o.Password != "secret" || o.PoolSize != 7 || !slices.Equal(o.Addrs, []string{"n1:6379", "n2:6380"}) {
		t.Fatalf("parsed %+v", o)
	}
	tightenCluster(o, ClientOptions{})
	if o.MaxRedirects != 4 || o.MaxRetries != -1 || o.ReadTimeout != DefaultTimeout || !o.ContextTimeoutEnabled {
		t.Fatalf("tightened %+v", o)
	}
	o, err = parseClusterURL("rediss-cluster://n1:6379,n2:6379?skip_verify=true", SchemeClusterTLS)
	if err != nil || o.TLSConfig == nil || o.TLSConfig.ServerName != "" || !o.TLSConfig.InsecureSkipVerify {
		t.Fatalf("TLS URL parsed %+v, %v; want TLS verifying each host's own name", o, err)
	}
	o, _ = parseClusterURL("redis-cluster://n1:6379", SchemeCluster)
	tightenCluster(o, ClientOptions{})
	if o.MaxRedirects != DefaultMaxRedirects {
		t.Fatalf("default redirects %d, want %d", o.MaxRedirects, DefaultMaxRedirects)
	}
}

// TestBadHAURLs checks that each mistake is refused with a message that says what is wrong
// and never repeats the password.
func TestBadHAURLs(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"redis-sentinel://:hunter2@h1:26379", "master name"},
		{"redis-sentinel://:hunter2@h1:26379/m/0/x", "master name"},
		{"redis-sentinel://:hunter2@h1/m", `"h1" is not host:port`},
		{"redis-sentinel://:hunter2@h1:1,,h2:2/m", `"" is not host:port`},
		{"redis-sentinel://:hunter2@h1:1/m?master_name=x", "master_name"},
		{"redis-sentinel://:hunter2@h1:1/m?password=x", "password"},
		{"redis-sentinel://:hunter2@h1:1/m?nonsense=1", "nonsense"},
		{"redis-sentinel://:hunter2@h1:1/m/zero", "database"},
		{"redis-cluster://:hunter2@n1:1/0", "no path"},
		{"redis-cluster://:hunter2@n1:1?addr=n2:2", "addr"},
		{"redis-cluster://:hunter2@n1:1?read_timeout=soon", "read_timeout"},
	} {
		_, err := NewUniversalClient(tc.url, ClientOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewUniversalClient(%s) = %v; want an error naming %q, without the password", tc.url, err, tc.want)
		}
	}
}

func TestNewUniversalClientKeepsSingleURLs(t *testing.T) {
	rdb, err := NewUniversalClient("redis://127.0.0.1:6379/3?read_timeout=2s", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rdb.Close() }()
	o := rdb.(*redis.Client).Options()
	if o.DB != 3 || o.ReadTimeout != 2*time.Second || o.DialTimeout != DefaultTimeout || o.MaxRetries != DefaultMaxRetries {
		t.Fatalf("single URL options %+v", o)
	}
}
