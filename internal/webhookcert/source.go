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

package webhookcert

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Source serves the certificate a Secret holds and follows it as it changes, so a rotation
// reaches every replica without a restart. It reads the one Secret by name through an uncached
// reader: a cache would list and watch every Secret, which the manager may not and need not.
type Source struct {
	Reader   client.Reader
	Secret   types.NamespacedName
	Interval time.Duration

	mu      sync.RWMutex
	cert    *tls.Certificate
	certPEM []byte
}

// Start polls the Secret until ctx ends. A Secret that is missing or unusable leaves the last
// good certificate in place (none at first: TLS handshakes then fail, and the API server,
// with failurePolicy Ignore, admits without us).
func (s *Source) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("secret", s.Secret.String())
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := s.load(ctx); err != nil {
			log.Info("Webhook certificate not loaded; serving the previous one", "error", err.Error())
		}
	}, s.Interval)
	return nil
}

// NeedLeaderElection is false: every replica serves the webhook.
func (s *Source) NeedLeaderElection() bool { return false }

func (s *Source) load(ctx context.Context) error {
	var sec corev1.Secret
	if err := s.Reader.Get(ctx, s.Secret, &sec); err != nil {
		return fmt.Errorf("read secret: %w", err)
	}
	certPEM, keyPEM := sec.Data[KeyCert], sec.Data[KeyKey]
	s.mu.RLock()
	same := bytes.Equal(certPEM, s.certPEM)
	s.mu.RUnlock()
	if same {
		return nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("parse key pair: %w", err)
	}
	s.mu.Lock()
	s.cert, s.certPEM = &cert, certPEM
	s.mu.Unlock()
	logf.FromContext(ctx).Info("Webhook certificate loaded", "secret", s.Secret.String())
	return nil
}

// GetCertificate is the TLS server's hook: the certificate last loaded.
func (s *Source) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cert == nil {
		return nil, fmt.Errorf("webhook certificate: not loaded yet from secret %s", s.Secret)
	}
	return s.cert, nil
}
