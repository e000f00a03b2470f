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
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// touchedSysctls are the kernel settings the node's components change: kubelet sets the panic
// and overcommit settings, the bridge plugin ip_forward; the rest are set by kube-proxy or the
// bridge in some configurations, and are kept just as well.
var touchedSysctls = []string{
	"kernel/panic",
	"kernel/panic_on_oops",
	"vm/overcommit_memory",
	"net/ipv4/ip_forward",
	"net/ipv4/conf/all/route_localnet",
	"net/bridge/bridge-nf-call-iptables",
	"net/bridge/bridge-nf-call-ip6tables",
	"net/netfilter/nf_conntrack_max",
}

// sysctlRecord holds the values from before the node's first start, until they are restored.
// A killed run leaves it, so the next start's sweep restores the true originals, not the values
// the killed run had set.
func sysctlRecord() string { return statePath("sysctl.orig") }

// recordSysctls writes the current values, unless a record from an unswept run exists.
func recordSysctls() error {
	if _, err := os.Stat(sysctlRecord()); err == nil {
		return nil
	}
	var b strings.Builder
	for _, key := range touchedSysctls {
		v, err := os.ReadFile(filepath.Join("/proc/sys", key)) //nolint:gosec // a /proc/sys file named by our own touchedSysctls
		if err != nil {
			continue // not on this kernel (or its module is not loaded): nothing to restore
		}
		fmt.Fprintf(&b, "%s=%s\n", key, strings.TrimSpace(string(v)))
	}
	if err := os.MkdirAll(StateDir, 0o750); err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	if err := os.WriteFile(sysctlRecord(), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("sysctl: record: %w", err)
	}
	return nil
}

// restoreSysctls writes the recorded values back and removes the record.
func restoreSysctls() error {
	f, err := os.Open(sysctlRecord())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	var errs []error
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		p := filepath.Join("/proc/sys", key)
		cur, err := os.ReadFile(p) //nolint:gosec // a /proc/sys file, and only one of touchedSysctls is ever recorded
		if err == nil && strings.TrimSpace(string(cur)) == value {
			continue
		}
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil { //nolint:gosec // a /proc/sys file: the mode is not used
			errs = append(errs, fmt.Errorf("sysctl: restore %s=%s: %w", key, value, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := os.Remove(sysctlRecord()); err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	return nil
}
