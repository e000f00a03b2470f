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
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	linksv1 "github.com/shortlink-dev/shortlink/api/v1alpha1"
	"github.com/shortlink-dev/shortlink/internal/cache"
	"github.com/shortlink-dev/shortlink/internal/localenv"
)

// A Redis URL the client cannot use stops the manager before it connects to anything, with a
// message naming the flag and what is wrong, never the password.
func TestBadRedisURLIsRefusedAtStart(t *testing.T) {
	for url, want := range map[string]string{
		"redis-sentinel://:hunter2@s1:26379":         "master name",
		"redis-cluster://:hunter2@n1:6379,n2/0":      "not host:port",
		"redis-cluster://:hunter2@n1:6379?pool=many": "pool",
	} {
		vars := map[string]string{"DATABASE_URL": "postgres://x", "REDIS_URL": url}
		err := run(context.Background(), nil, func(k string) string { return vars[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--redis-url") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("REDIS_URL=%s: run = %v; want an error naming --redis-url and %q, without the password", url, err, want)
		}
	}
}

// The manager writes a ShortLink's key to a Redis Cluster, on whichever node holds its slot,
// reports it Cached, and publishes its invalidation where a subscriber on any node hears it.
func TestManagerOnRedisCluster(t *testing.T) {
	env := localenv.ForTest(t, localenv.Options{Kube: true, Postgres: true, RedisCluster: &localenv.RedisClusterOptions{Password: "manager-test"}})
	// A process of its own: run registers the manager's collectors in controller-runtime's
	// global registry, which TestManagerRunsAgainstRealDependencies already did in this one.
	p, err := env.StartProcess("manager", os.Args[0], nil, []string{
		runAsManager + "=1", "KUBECONFIG=" + env.Kube.Kubeconfig,
		"DATABASE_URL=" + env.Postgres.URL("postgres"), "REDIS_URL=" + env.RedisCluster.URL(), "DEFAULT_DOMAIN=sho.rt",
		"METRICS_BIND_ADDRESS=0", "HEALTH_PROBE_BIND_ADDRESS=0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A subscriber on the last node, through a client of that node alone.
	node := redis.NewClient(&redis.Options{Addr: env.RedisCluster.Nodes[2].Addr(), Password: "manager-test"})
	defer func() { _ = node.Close() }()
	sub := cache.New(node, cache.Options{}).Subscribe(ctx)
	defer func() { _ = sub.Close() }()
	select {
	case <-sub.Resync():
	case <-time.After(30 * time.Second):
		t.Fatal("the subscriber never subscribed")
	}

	c := newClient(t, env)
	sl := &linksv1.ShortLink{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "clustered"},
		Spec: linksv1.ShortLinkSpec{Target: "https://example.com/clustered"}}
	if err := c.Create(ctx, sl); err != nil {
		t.Fatal(err)
	}
	waitReason(t, c, sl, linksv1.ReasonSynced)

	rdb, err := cache.NewUniversalClient(env.RedisCluster.URL(), cache.ClientOptions{ReadTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rdb.Close() }()
	waitFor(t, "the key in the cluster", func() error {
		e, err := cache.New(rdb, cache.Options{}).Get(ctx, "", "clustered")
		if err == nil && e.Link.Target != "https://example.com/clustered" {
			err = errors.New("wrong target " + e.Link.Target)
		}
		return err
	})
	select {
	case inv := <-sub.Invalidations():
		if inv.Code != "clustered" {
			t.Fatalf("invalidation %+v, want one for clustered", inv)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no invalidation reached the subscriber on another node")
	}
}
