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

package localenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisClusterOptions shape a Redis Cluster.
type RedisClusterOptions struct {
	// Password, when set, is required by every node.
	Password string
}

// clusterMasters is three, the smallest cluster redis-cli --cluster create accepts.
const clusterMasters = 3

// RedisCluster is a three-master Redis Cluster without replicas, built by
// redis-cli --cluster create: every hash slot has one home, on one of three nodes.
type RedisCluster struct {
	Options RedisClusterOptions
	Nodes   []*Redis
}

// StartRedisCluster starts three nodes with cluster-enabled under runDir, joins them into a
// cluster that assigns every slot, and waits until every node reports the cluster ok.
func StartRedisCluster(ctx context.Context, runDir string, opts RedisClusterOptions) (c *RedisCluster, err error) {
	c = &RedisCluster{Options: opts}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	for i := range clusterMasters {
		// The cluster bus port is the client port + 10000 unless set: it may not be free, or
		// not exist, so it gets a free port of its own.
		bus, err := freePort()
		if err != nil {
			return c, err
		}
		extra := []string{"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 2000",
			fmt.Sprintf("cluster-port %d", bus)}
		n, err := newRedis(runDir, fmt.Sprintf("redis-cluster-%d", i), extra, opts.Password)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, n)
		if err := n.Start(ctx); err != nil {
			return c, err
		}
	}
	if err := c.create(ctx, runDir); err != nil {
		return c, err
	}
	return c, c.waitOK(ctx)
}

// create runs redis-cli --cluster create, which assigns the slots and introduces the nodes.
func (c *RedisCluster) create(ctx context.Context, runDir string) error {
	cli, err := findBinary("redis-cli", installRedis, "/usr/bin")
	if err != nil {
		return err
	}
	args := append([]string{"--cluster", "create"}, c.addrs()...)
	args = append(args, "--cluster-yes")
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...) //nolint:gosec // our binary and our nodes
	// The password goes by environment, not on a command line others can read.
	cmd.Env = append(os.Environ(), markerEnv+"="+runDir)
	if c.Options.Password != "" {
		cmd.Env = append(cmd.Env, "REDISCLI_AUTH="+c.Options.Password)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitOK waits until every node says cluster_state:ok and knows every other node.
func (c *RedisCluster) waitOK(ctx context.Context) error {
	return pollUntil("redis cluster not ok", func() error { return c.ok(ctx) })
}

func (c *RedisCluster) ok(ctx context.Context) error {
	for _, n := range c.Nodes {
		rc := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: c.Options.Password, MaxRetries: -1})
		info, err := rc.ClusterInfo(ctx).Result()
		_ = rc.Close()
		switch {
		case err != nil:
			return fmt.Errorf("node %s: %w", n.Addr(), err)
		case !strings.Contains(info, "cluster_state:ok"):
			return fmt.Errorf("node %s: cluster state not ok yet", n.Addr())
		case !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", len(c.Nodes))):
			return fmt.Errorf("node %s does not know every node yet", n.Addr())
		}
	}
	return nil
}

func (c *RedisCluster) addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL is the redis-cluster:// URL that cache.NewUniversalClient reads: every node, and the
// password if the cluster has one.
func (c *RedisCluster) URL() string {
	u := url.URL{Scheme: "redis-cluster", Host: strings.Join(c.addrs(), ",")}
	if c.Options.Password != "" {
		u.User = url.UserPassword("", c.Options.Password)
	}
	return u.String()
}

// Stop stops every node.
func (c *RedisCluster) Stop() error {
	errs := make([]error, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}
