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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is the node's certificate authorities, made anew for every start.
type pki struct {
	dir        string
	ca, proxy  *authority
	validUntil time.Time
}

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// leaf describes one certificate: a client's identity or a server's names.
type leaf struct {
	file   string
	cn     string
	orgs   []string
	ips    []string
	dns    []string
	server bool
}

// writePKI makes the cluster CA, the front-proxy CA (aggregation: metrics-server trusts it),
// the service-account key and every component's certificate under dir.
func writePKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	p := &pki{dir: dir, validUntil: time.Now().Add(7 * 24 * time.Hour)}
	var err error
	if p.ca, err = p.newAuthority("ca", "shortlink-node-ca"); err != nil {
		return nil, err
	}
	if p.proxy, err = p.newAuthority("front-proxy-ca", "shortlink-node-front-proxy-ca"); err != nil {
		return nil, err
	}
	if err := p.writeKey("sa", mustKey()); err != nil {
		return nil, err
	}
	for _, l := range []leaf{
		{file: "apiserver", cn: "kube-apiserver", server: true, ips: []string{NodeIP, APIServiceIP},
			dns: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain}},
		{file: "kubelet-serving", cn: NodeName, server: true, ips: []string{NodeIP}, dns: []string{NodeName}},
		{file: "admin", cn: "shortlink-node-admin", orgs: []string{"system:masters"}},
		{file: kubeletName, cn: "system:node:" + NodeName, orgs: []string{"system:nodes"}},
		{file: kubeProxyName, cn: "system:kube-proxy"},
		{file: "controller-manager", cn: "system:kube-controller-manager"},
		{file: "scheduler", cn: "system:kube-scheduler"},
		// The API server's client identity towards kubelet (logs, exec, metrics).
		{file: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}},
	} {
		if err := p.issue(p.ca, l); err != nil {
			return nil, err
		}
	}
	if err := p.issue(p.proxy, leaf{file: frontProxyClient, cn: frontProxyClient}); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) newAuthority(file, cn string) (*authority, error) {
	key := mustKey()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              p.validUntil,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse %s: %w", cn, err)
	}
	if err := p.writeCert(file, der); err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, p.writeKey(file, key)
}

func (p *pki) issue(ca *authority, l leaf) error {
	key := mustKey()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: l.cn, Organization: l.orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     p.validUntil,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:     l.dns,
	}
	if l.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, ip := range l.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return fmt.Errorf("pki: issue %s: %w", l.file, err)
	}
	if err := p.writeCert(l.file, der); err != nil {
		return err
	}
	return p.writeKey(l.file, key)
}

func (p *pki) writeCert(file string, der []byte) error {
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(p.path(file+".crt"), data, 0o644); err != nil { //nolint:gosec // a public certificate
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

func (p *pki) writeKey(file string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("pki: marshal %s key: %w", file, err)
	}
	if err := os.WriteFile(p.path(file+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if file != "sa" {
		return nil
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("pki: marshal sa public key: %w", err)
	}
	if err := os.WriteFile(p.path("sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil { //nolint:gosec // public
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// mustKey makes a P-256 key; it fails only if the system's randomness does, and then nothing
// else here could work either.
func mustKey() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("pki: generate key: %v", err))
	}
	return key
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(fmt.Sprintf("pki: serial: %v", err))
	}
	return n
}

// kubeconfig writes a kubeconfig for one client certificate of the pki.
func (p *pki) kubeconfig(path, client string) error {
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: shortlink-node
  cluster:
    server: https://%s:%d
    certificate-authority: %s
users:
- name: %s
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: shortlink-node
  context:
    cluster: shortlink-node
    user: %s
current-context: shortlink-node
`, NodeIP, APIServerPort, p.path("ca.crt"), client, p.path(client+".crt"), p.path(client+".key"), client)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
