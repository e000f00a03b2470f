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
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const installKube = "run `make envtest-assets` (it builds them once from the Go module proxy) " +
	"or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl"

// Kube is etcd and kube-apiserver started by envtest, with the Shortlink CRDs installed, and
// optionally kube-controller-manager, so that namespace deletion and garbage collection work.
type Kube struct {
	// Env is the envtest environment; Env.Config is the admin rest.Config.
	Env *envtest.Environment
	// Config is an admin rest.Config.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig a person can use with kubectl.
	Kubeconfig string
	// AssetsDir holds the Kubernetes binaries, kubectl among them.
	AssetsDir string

	cm *process
}

// KubeOptions choose what runs beside the API server.
type KubeOptions struct {
	// CRDDirs default to config/crd/bases of this repository.
	CRDDirs []string
	// ControllerManager also starts kube-controller-manager (namespace and garbage collection).
	ControllerManager bool
}

// StartKube starts etcd and kube-apiserver, installs the CRDs and writes a kubeconfig.
func StartKube(ctx context.Context, runDir string, opts KubeOptions) (*Kube, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	if len(opts.CRDDirs) == 0 {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.CRDDirs = []string{filepath.Join(root, "config", "crd", "bases")}
	}
	dir := filepath.Join(runDir, "kube")
	wrapped, err := wrapBinaries(runDir, assets, "etcd", "kube-apiserver")
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     opts.CRDDirs,
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: wrapped,
	}
	env.ControlPlane.Etcd = &envtest.Etcd{DataDir: filepath.Join(dir, "etcd")}
	// The data is throwaway, like PostgreSQL's here (fsync=off): skip etcd's fsyncs, which
	// otherwise bound every write on a slow disk.
	env.ControlPlane.Etcd.Configure().Set("unsafe-no-fsync", "true")
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: filepath.Join(dir, "certs")}
	for _, d := range []string{env.ControlPlane.Etcd.DataDir, env.ControlPlane.APIServer.CertDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create kube directory: %w", err)
		}
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("start etcd and kube-apiserver: %w", err)
	}
	k := &Kube{Env: env, Config: cfg, AssetsDir: assets, Kubeconfig: filepath.Join(dir, "kubeconfig")}
	if err := k.writeKubeconfig(); err != nil {
		_ = k.Stop()
		return nil, err
	}
	if opts.ControllerManager {
		if err := k.startControllerManager(ctx, runDir); err != nil {
			_ = k.Stop()
			return nil, err
		}
	}
	return k, nil
}

func (k *Kube) writeKubeconfig() error {
	admin, err := k.Env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("render kubeconfig: %w", err)
	}
	if err := os.WriteFile(k.Kubeconfig, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// startControllerManager runs only the controllers a cluster needs for deletion to work.
func (k *Kube) startControllerManager(ctx context.Context, runDir string) error {
	bin, err := findBinary("kube-controller-manager", installKube, k.AssetsDir)
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	k.cm = &process{
		name: "kube-controller-manager", path: bin, runDir: runDir,
		logPath: filepath.Join(runDir, "kube", "kube-controller-manager.log"),
		args: []string{
			"--kubeconfig=" + k.Kubeconfig,
			"--controllers=namespace,garbagecollector",
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(runDir, "kube", "kcm-certs"),
			"--use-service-account-credentials=false",
		},
	}
	if err := k.cm.start(); err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a self-signed loopback health endpoint
	}}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	return k.cm.waitReady(func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz answered %s", resp.Status)
		}
		return nil
	})
}

// Stop stops kube-controller-manager, kube-apiserver and etcd.
func (k *Kube) Stop() error {
	var errs []error
	if k.cm != nil {
		errs = append(errs, k.cm.stop())
	}
	errs = append(errs, k.Env.Stop())
	return errors.Join(errs...)
}

// wrapBinaries writes, for each named binary, a script that runs it with a parent-death
// signal and this run's marker: envtest starts its processes without either.
func wrapBinaries(runDir, assets string, names ...string) (string, error) {
	dir := filepath.Join(runDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create wrapper directory: %w", err)
	}
	pdeath := ""
	if setpriv, err := exec.LookPath("setpriv"); err == nil {
		pdeath = setpriv + " --pdeathsig KILL -- "
	}
	for _, name := range names {
		real := filepath.Join(assets, name)
		script := fmt.Sprintf("#!/bin/sh\n%s=%q exec %s%q \"$@\"\n", markerEnv, runDir, pdeath, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil { //nolint:gosec // an executable wrapper
			return "", fmt.Errorf("write %s wrapper: %w", name, err)
		}
	}
	return dir, nil
}

// AssetsDir finds the Kubernetes binaries: $KUBEBUILDER_ASSETS, else the newest complete
// directory under bin/k8s that `make envtest-assets` built.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, assetsComplete(dir)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*"))
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, dir := range dirs {
		if assetsComplete(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: kube-apiserver and etcd not found; %s", ErrMissingBinary, installKube)
}

func assetsComplete(dir string) error {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%w: %s not in %s; %s", ErrMissingBinary, name, dir, installKube)
		}
	}
	return nil
}

// RepoRoot is the directory of this module's go.mod, found from the working directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == "github.com/shortlink-dev/shortlink" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the repository root: no go.mod of github.com/shortlink-dev/shortlink above the working directory")
		}
		dir = parent
	}
}
