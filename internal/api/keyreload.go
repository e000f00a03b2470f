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

package api

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"
)

// Watch re-reads the key file at path every interval until ctx ends, and takes its keys when
// its content changed. Polling, rather than file events, is what sees a mounted Secret change:
// the kubelet swaps a symlink, and the file read through it changes.
//
// A file that cannot be read or parsed fails closed: no key is valid until it can be again.
// The file is the only word on which keys are revoked, and keeping the old ones would keep a
// key valid that the file no longer names (a Secret deleted, or edited with a typo alongside
// a revocation). Each failure is logged, and counted in shortlink_api_keys_file_errors_total,
// once until the file or the error changes.
func (k *Keys) Watch(ctx context.Context, path string, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var failed [sha256.Size]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, err := os.ReadFile(path) //nolint:gosec // the path is the operator's configuration
		if err != nil {
			if sum := sha256.Sum256([]byte(err.Error())); sum != failed {
				failed = sum
				k.refuseAll()
				log.Error("Cannot read the API keys file; refusing every key until it can be read", "file", path, "error", err)
			}
			continue
		}
		sum := sha256.Sum256(b)
		if sum == k.set.Load().source || sum == failed {
			continue
		}
		set, err := parseKeys(b)
		if err != nil {
			failed = sum
			k.refuseAll()
			log.Error("The API keys file does not parse; refusing every key until it does", "file", path, "error", err)
			continue
		}
		failed = [sha256.Size]byte{}
		k.store(set)
		log.Info("Reloaded the API keys", "file", path, "keys", len(set.byHash))
	}
}

// refuseAll drops every key after a failed reload. Its source matches no file, so the next
// readable file is taken whatever it holds, the previous content included.
func (k *Keys) refuseAll() {
	k.store(&keySet{byHash: map[[sha256.Size]byte]*grant{}})
	if m := k.metrics.Load(); m != nil {
		m.keysFileErrors.Inc()
	}
}

// store puts set in use and shows its size in shortlink_api_keys.
func (k *Keys) store(set *keySet) {
	k.set.Store(set)
	if m := k.metrics.Load(); m != nil {
		m.keys.Set(float64(len(set.byHash)))
	}
}

// reportTo makes k's reloads show in m; NewHandler calls it, so the binary's wiring stays as
// it was.
func (k *Keys) reportTo(m *Metrics) {
	if k == nil {
		return
	}
	k.metrics.Store(m)
	m.keys.Set(float64(k.Len()))
}
