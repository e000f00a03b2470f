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

// Package webhookcert holds the admission webhook's serving certificate: generating a CA and a
// serving certificate, serving whatever a Secret holds (every replica), and keeping that Secret
// and the ValidatingWebhookConfiguration's caBundle current (the leader). It knows nothing of
// ShortLinks; the admission rules live with the reconciler in controllers.
package webhookcert

// The Secret's keys, the ones cert-manager writes too, so a replica serves either's Secret.
const (
	KeyCert = "tls.crt"
	KeyKey  = "tls.key"
	KeyCA   = "ca.crt"
)
