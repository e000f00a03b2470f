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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// PolicyFile is the URL policy of some served domains and a blocklist file, rebuilt when the
// file's content changes. The operator and the create API each keep one on the same file (a
// mounted ConfigMap), so both refuse the same targets. A file that does not exist blocks
// nothing; a file that fails to load keeps the policy built before. Policy and Source are safe
// for concurrent use; Reload and Watch are for one goroutine.
type PolicyFile struct {
	current atomic.Pointer[Policy]
	served  []string
	file    string
	last    []byte
}

// NewPolicyFile builds the policy from file now (no file when file is ""), failing when the
// file cannot be read or holds a bad line.
func NewPolicyFile(served []string, file string) (*PolicyFile, error) {
	p := &PolicyFile{served: served, file: file}
	if _, err := p.Reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// Policy returns the current policy.
func (p *PolicyFile) Policy() *Policy { return p.current.Load() }

// Source returns the pointer the current policy is swapped in, for readers that hold it.
func (p *PolicyFile) Source() *atomic.Pointer[Policy] { return &p.current }

// Reload rebuilds the policy when the file's content changed, and reports whether it did.
func (p *PolicyFile) Reload() (bool, error) {
	var data []byte
	if p.file != "" {
		var err error
		if data, err = os.ReadFile(p.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("read blocklist: %w", err)
		}
	}
	if p.current.Load() != nil && bytes.Equal(data, p.last) {
		return false, nil
	}
	blocked, err := LoadBlocklist(bytes.NewReader(data))
	if err != nil {
		return false, fmt.Errorf("blocklist %s: %w", p.file, err)
	}
	policy, err := NewPolicy(p.served, blocked)
	if err != nil {
		return false, fmt.Errorf("url policy: %w", err)
	}
	p.current.Store(policy)
	p.last = data
	return true, nil
}

// Watch reloads every interval until ctx ends, calling changed after each change and failed
// for each reload that failed (the previous policy stays). Without a file it returns at once.
func (p *PolicyFile) Watch(ctx context.Context, interval time.Duration, changed func(), failed func(error)) {
	if p.file == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch ok, err := p.Reload(); {
		case err != nil:
			failed(err)
		case ok:
			changed()
		}
	}
}
