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
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrUnstorable marks an entry Heal did not send because Redis could never hold it: retrying
// it cannot help, unlike a failed pipeline.
var ErrUnstorable = errors.New("entry cannot be stored")

// Heal writes every entry as Set would, or for a tombstone as Delete would — never over an
// entry of the same or a newer version, tombstones included — and reports for each whether it
// wrote. Entries go to Redis in one pipeline, in order, so a page of a thousand changes costs
// one round trip rather than a thousand: the redirector heals each page of the change feed
// with it.
//
// An entry Set or Delete would refuse (an invalid key, a version that is not positive) is not
// sent and is named in an error wrapping ErrUnstorable; the others are written all the same.
// The client's read timeout bounds the whole pipeline, so callers send pages, not unbounded
// slices.
func (c *Cache) Heal(ctx context.Context, entries []Entry) ([]bool, error) {
	written := make([]bool, len(entries))
	calls, at, errs := c.healCalls(entries)
	if len(calls) > 0 {
		replies, err := runHealCalls(ctx, c.rdb, calls)
		for j, n := range replies {
			written[at[j]] = n == 1
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("heal %d cache entries: %w", len(calls), err))
		}
	}
	return written, errors.Join(errs...)
}

// healCall is one entry's run of setIfNewer. Its arguments are sent as pointers into it, which
// go-redis writes as it writes the values, so a call costs no allocation of its own beyond the
// command: building a thousand EvalSha commands (their keys, a slice and a string a field, each
// boxed) was most of what healing cost a redirector hosting the API during 1,000-link batches
// (bin/bench/create-batch.pprof; BenchmarkHeal).
type healCall struct {
	key, payload string
	version, ttl int64 // ttl in milliseconds
}

// healCalls returns the calls that write entries, where each went (calls[j] writes
// entries[at[j]]), and the entries refused. Every key and payload is a slice of one string.
func (c *Cache) healCalls(entries []Entry) (calls []healCall, at []int, errs []error) {
	calls, at = make([]healCall, 0, len(entries)), make([]int, 0, len(entries))
	buf := healBuffers.Get().(*[]byte)
	defer healBuffers.Put(buf)
	b := (*buf)[:0]
	ends := make([]int, 0, 2*len(entries)) // where each call's key, then payload, ends in b
	for i, e := range entries {
		l, op, ttl := e.Link, "set", c.opts.TTL
		if e.Deleted {
			op, ttl = "delete", c.opts.TombstoneTTL
		}
		if err := checkWrite(op, l.Domain, l.Code, l.Version); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrUnstorable, err))
			continue
		}
		b = append(append(append(b, KeyPrefix...), l.Domain...), ':')
		b = append(b, l.Code...)
		ends = append(ends, len(b))
		if !e.Deleted {
			b = appendPayload(b, l)
		}
		ends = append(ends, len(b))
		calls = append(calls, healCall{version: l.Version, ttl: ttl.Milliseconds()})
		at = append(at, i)
	}
	*buf = b
	all, start := string(b), 0
	for j := range calls {
		calls[j].key, calls[j].payload = all[start:ends[2*j]], all[ends[2*j]:ends[2*j+1]]
		start = ends[2*j+1]
	}
	return calls, at, errs
}

// healBuffers hold the bytes of a page's keys and payloads while they are written.
var healBuffers = sync.Pool{New: func() any { return new([]byte) }}

// runHealCalls runs setIfNewer once per call, all in one pipeline, and returns each call's
// integer reply with the first error any call met. Should Redis not know the script (after a
// restart or SCRIPT FLUSH), it loads it and sends the refused calls once more: every call is a
// compare-version write, so sending one again cannot undo a newer write.
func runHealCalls(ctx context.Context, rdb redis.UniversalClient, calls []healCall) ([]int64, error) {
	cmds := evalShaPipelined(ctx, rdb, setIfNewer.Hash(), calls)
	var again []healCall
	var at []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again, at = append(again, calls[i]), append(at, i)
		}
	}
	if len(again) > 0 {
		if err := setIfNewer.Load(ctx, rdb).Err(); err != nil {
			return make([]int64, len(calls)), fmt.Errorf("load script: %w", err)
		}
		for j, cmd := range evalShaPipelined(ctx, rdb, setIfNewer.Hash(), again) {
			cmds[at[j]] = cmd
		}
	}
	replies := make([]int64, len(calls))
	var first error
	for i, cmd := range cmds {
		n, err := cmd.Int64()
		if err != nil && first == nil {
			first = err
		}
		replies[i] = n
	}
	return replies, first
}

// evalShaPipelined sends one EVALSHA per call in a pipeline, its arguments boxed as pointers
// into calls (see healCall). Each command carries its own reply or error, which is what the
// caller reads, so Exec's summary error is not needed.
func evalShaPipelined(ctx context.Context, rdb redis.UniversalClient, hash string, calls []healCall) []*redis.Cmd {
	const argc = 7 // EVALSHA sha1 numkeys key version payload ttl
	args := make([]any, argc*len(calls))
	cmds := make([]*redis.Cmd, len(calls))
	queued := make([]redis.Cmder, len(calls))
	for i := range calls {
		c := &calls[i]
		a := args[argc*i : argc*(i+1) : argc*(i+1)]
		a[0], a[1], a[2], a[3], a[4], a[5], a[6] = "evalsha", &hash, 1, &c.key, &c.version, &c.payload, &c.ttl
		cmds[i] = redis.NewCmd(ctx, a...)
		cmds[i].SetFirstKeyPos(3) // routes it by its key, as EvalSha does, on a cluster
		queued[i] = cmds[i]
	}
	pipe := rdb.Pipeline()
	_ = pipe.BatchProcess(ctx, queued...)
	_, _ = pipe.Exec(ctx)
	return cmds
}
