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

package localnode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrBusy says another node holds the machine's lock.
var ErrBusy = errors.New("another shortlink node runs on this machine")

// lock is the machine-wide flock that allows one node at a time. The kernel drops it when its
// holder dies, so a killed run never blocks the next one.
type lock struct{ f *os.File }

// acquireLock waits up to wait for the lock, then fails with ErrBusy naming the holder.
func acquireLock(ctx context.Context, wait time.Duration) (*lock, error) {
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o750); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) //nolint:gosec // a file descriptor fits an int
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", lockPath, err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			holder, _ := os.ReadFile(lockPath)
			_ = f.Close()
			return nil, fmt.Errorf("%w (lock %s held by pid %s after waiting %s)", ErrBusy, lockPath, holder, wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The holder's pid, for the message a waiting start gives.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprint(os.Getpid())), 0)
	return &lock{f: f}, nil
}

func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN) //nolint:gosec // a file descriptor fits an int
	_ = l.f.Close()
	l.f = nil
}
