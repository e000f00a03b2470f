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
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSentinelOptions shape a Sentinel topology.
type RedisSentinelOptions struct {
	// MasterName is the name the sentinels monitor the master under; default "mymaster".
	MasterName string
	// Password, when set, is required by the master, the replica and the sentinels alike.
	Password string
	// DownAfter is how long the master must be unreachable before a sentinel deems it down
	// (down-after-milliseconds); default one second, so failover tests stay short.
	DownAfter time.Duration
	// FailoverTimeout is Sentinel's failover-timeout; default five seconds.
	FailoverTimeout time.Duration
}

func (o *RedisSentinelOptions) defaults() {
	if o.MasterName == "" {
		o.MasterName = "mymaster"
	}
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 5 * time.Second
	}
}

// sentinelCount is three, the smallest number that still elects a failover leader with one
// sentinel gone; the quorum is two.
const sentinelCount = 3

// RedisSentinel is a master, a replica and three sentinels (redis-server --sentinel), as a
// Sentinel chart runs them: the shape a failover test needs.
type RedisSentinel struct {
	Options RedisSentinelOptions
	// Master and Replica are the nodes as started; after a failover their roles are swapped,
	// and MasterAddr says which is which.
	Master, Replica *Redis
	// Sentinels are the sentinels; their Dir holds the configuration they rewrite.
	Sentinels []*Redis
}

// StartRedisSentinel starts the master, its replica and the sentinels under runDir, and waits
// until the replica is in sync and every sentinel knows the replica and the other sentinels,
// so that a failover can happen from the first moment.
func StartRedisSentinel(ctx context.Context, runDir string, opts RedisSentinelOptions) (s *RedisSentinel, err error) {
	opts.defaults()
	s = &RedisSentinel{Options: opts}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if s.Master, err = newRedis(runDir, "redis-master", nil, opts.Password); err != nil {
		return s, err
	}
	if err = s.Master.Start(ctx); err != nil {
		return s, err
	}
	replicaOf := []string{fmt.Sprintf("replicaof 127.0.0.1 %d", s.Master.Port)}
	if s.Replica, err = newRedis(runDir, "redis-replica", replicaOf, opts.Password); err != nil {
		return s, err
	}
	if err = s.Replica.Start(ctx); err != nil {
		return s, err
	}
	for i := range sentinelCount {
		sn, err := s.newSentinel(runDir, i)
		if err != nil {
			return s, err
		}
		s.Sentinels = append(s.Sentinels, sn)
		if err = sn.Start(ctx); err != nil {
			return s, err
		}
	}
	return s, s.waitFormed(ctx)
}

// newSentinel configures sentinel i. Sentinel rewrites its configuration file as it learns
// the topology, so each has its own.
func (s *RedisSentinel) newSentinel(runDir string, i int) (*Redis, error) {
	o := s.Options
	lines := []string{
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", o.MasterName, s.Master.Port),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", o.MasterName, o.DownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", o.MasterName, o.FailoverTimeout.Milliseconds()),
		fmt.Sprintf("sentinel parallel-syncs %s 1", o.MasterName),
	}
	if o.Password != "" {
		lines = append(lines, fmt.Sprintf("sentinel auth-pass %s %s", o.MasterName, o.Password),
			"sentinel sentinel-pass "+o.Password)
	}
	// newRedis's requirepass/masterauth lines serve a sentinel too: clients and other
	// sentinels log in with the password.
	sn, err := newRedis(runDir, fmt.Sprintf("redis-sentinel-%d", i), lines, o.Password)
	if err != nil {
		return nil, err
	}
	sn.proc.args = append(sn.proc.args, "--sentinel")
	return sn, nil
}

// waitFormed waits until the replica is in sync and each sentinel sees the replica and the
// other sentinels.
func (s *RedisSentinel) waitFormed(ctx context.Context) error {
	return pollUntil("redis sentinel not formed", func() error { return s.formed(ctx) })
}

func (s *RedisSentinel) formed(ctx context.Context) error {
	rc := redis.NewClient(&redis.Options{Addr: s.Replica.Addr(), Password: s.Options.Password, MaxRetries: -1})
	info, err := rc.Info(ctx, "replication").Result()
	_ = rc.Close()
	if err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	if !strings.Contains(info, "master_link_status:up") {
		return errors.New("replica not in sync with the master yet")
	}
	for _, sn := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), Password: s.Options.Password, MaxRetries: -1})
		replicas, err := c.Replicas(ctx, s.Options.MasterName).Result()
		var others []map[string]string
		if err == nil {
			others, err = c.Sentinels(ctx, s.Options.MasterName).Result()
		}
		_ = c.Close()
		switch {
		case err != nil:
			return fmt.Errorf("sentinel %s: %w", sn.Addr(), err)
		case len(replicas) < 1:
			return fmt.Errorf("sentinel %s does not know the replica yet", sn.Addr())
		case len(others) < sentinelCount-1:
			return fmt.Errorf("sentinel %s knows %d other sentinels, want %d", sn.Addr(), len(others), sentinelCount-1)
		}
	}
	return nil
}

// MasterAddr is the master's host:port as the first sentinel that answers names it.
func (s *RedisSentinel) MasterAddr(ctx context.Context) (string, error) {
	var errs []error
	for _, sn := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), Password: s.Options.Password, MaxRetries: -1})
		addr, err := c.GetMasterAddrByName(ctx, s.Options.MasterName).Result()
		_ = c.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %w", sn.Addr(), err))
	}
	return "", fmt.Errorf("ask sentinels for the master: %w", errors.Join(errs...))
}

// URL is the redis-sentinel:// URL that cache.NewUniversalClient reads: every sentinel, the
// master name, database 0, and the password for Redis and for the sentinels.
func (s *RedisSentinel) URL() string {
	addrs := make([]string, len(s.Sentinels))
	for i, sn := range s.Sentinels {
		addrs[i] = sn.Addr()
	}
	u := url.URL{Scheme: "redis-sentinel", Host: strings.Join(addrs, ","), Path: "/" + s.Options.MasterName + "/0"}
	if s.Options.Password != "" {
		u.User = url.UserPassword("", s.Options.Password)
		u.RawQuery = url.Values{"sentinel_password": {s.Options.Password}}.Encode()
	}
	return u.String()
}

// Stop stops the sentinels first, so that they start no failover while the nodes go.
func (s *RedisSentinel) Stop() error {
	var errs []error
	for _, sn := range s.Sentinels {
		errs = append(errs, sn.Stop())
	}
	for _, r := range []*Redis{s.Replica, s.Master} {
		if r != nil {
			errs = append(errs, r.Stop())
		}
	}
	return errors.Join(errs...)
}
