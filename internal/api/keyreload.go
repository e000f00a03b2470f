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
// the kubelet swaps a symlink, and the file read through it changes. A file that cannot be read
// or parsed keeps the keys in use, and is logged once until it changes again.
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
				log.Error("Cannot read the API keys file; keeping the keys in use", "file", path, "error", err)
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
			log.Error("The API keys file does not parse; keeping the keys in use", "file", path, "error", err)
			continue
		}
		failed = [sha256.Size]byte{}
		k.set.Store(set)
		log.Info("Reloaded the API keys", "file", path, "keys", len(set.byHash))
	}
}
