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

package devenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// sampleCodes are the codes config/samples declare on the default domain.
var sampleCodes = []string{"docs", "summer", "home", "guide"}

// Kubectl runs the kubectl built with the Kubernetes binaries against this platform, with
// stdin (may be nil), and returns its standard output.
func (p *Platform) Kubectl(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	args = append([]string{"--kubeconfig", p.Env.Kube.Kubeconfig}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(p.Env.Kube.AssetsDir, "kubectl"), args...) //nolint:gosec // our kubectl
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args[2:], " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// ApplySamples applies config/samples and waits until every sample is Ready and redirects
// through the redirector.
func (p *Platform) ApplySamples(ctx context.Context) error {
	p.step("Applying config/samples")
	if _, err := p.Kubectl(ctx, nil, "apply", "-k", filepath.Join(p.opts.Root, "config", "samples")); err != nil {
		return err
	}
	if _, err := p.Kubectl(ctx, nil, "wait", "--for=condition=Ready", "--timeout=120s", "shortlinks", "--all"); err != nil {
		return err
	}
	for _, code := range sampleCodes {
		err := Poll(ctx, readyTimeout, "sample "+code+" redirects", func() (bool, error) {
			status, _, err := p.Request(ctx, http.MethodHead, p.opts.DefaultDomain, "/"+code)
			return err == nil && status >= 300 && status < 400, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// noFollow answers redirects with the redirect itself.
var noFollow = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Request sends method path to the redirector with the given Host and returns the status code
// and the Location header. HEAD is not counted as a visit; GET is.
func (p *Platform) Request(ctx context.Context, method, host, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.RedirectorAddr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := noFollow.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}
