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
	calls := make([]scriptCall, 0, len(entries))
	at := make([]int, 0, len(entries)) // calls[j] writes entries[at[j]]
	var errs []error
	for i, e := range entries {
		sc, err := c.entryCall(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrUnstorable, err))
			continue
		}
		calls = append(calls, sc)
		at = append(at, i)
	}
	if len(calls) > 0 {
		replies, err := runPipelined(ctx, c.rdb, setIfNewer, calls)
		for j, n := range replies {
			written[at[j]] = n == 1
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("heal %d cache entries: %w", len(calls), err))
		}
	}
	return written, errors.Join(errs...)
}

func (c *Cache) entryCall(e Entry) (scriptCall, error) {
	l := e.Link
	if e.Deleted {
		return newScriptCall("delete", l.Domain, l.Code, l.Version, "", c.opts.TombstoneTTL)
	}
	return newScriptCall("set", l.Domain, l.Code, l.Version, encodePayload(l), c.opts.TTL)
}

// runPipelined runs script once per call, all in one pipeline, and returns each call's integer
// reply with the first error any call met. Should Redis not know the script (after a restart or
// SCRIPT FLUSH), it loads it and sends the refused calls once more: every call is a
// compare-version write, so sending one again cannot undo a newer write.
func runPipelined(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, calls []scriptCall) ([]int64, error) {
	cmds := evalShaPipelined(ctx, rdb, script, calls)
	var again []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		if err := script.Load(ctx, rdb).Err(); err != nil {
			return make([]int64, len(calls)), fmt.Errorf("load script: %w", err)
		}
		retry := make([]scriptCall, len(again))
		for j, i := range again {
			retry[j] = calls[i]
		}
		for j, cmd := range evalShaPipelined(ctx, rdb, script, retry) {
			cmds[again[j]] = cmd
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

// evalShaPipelined sends one EVALSHA per call in a pipeline. Each command carries its own
// reply or error, which is what the caller reads, so Exec's summary error is not needed.
func evalShaPipelined(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, calls []scriptCall) []*redis.Cmd {
	pipe := rdb.Pipeline()
	hash := script.Hash()
	cmds := make([]*redis.Cmd, len(calls))
	for i, sc := range calls {
		cmds[i] = pipe.EvalSha(ctx, hash, []string{sc.key}, sc.args...)
	}
	_, _ = pipe.Exec(ctx)
	return cmds
}
