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

import "net/url"

// Blocks reports whether a stored link's target (normalized, as Link.Normalized leaves it) is
// at or under a blocklisted domain. The redirector asks it when it fills its cache, so a
// domain added to the blocklist stops links that were accepted before it, made through the API
// or declared alike. A nil Policy blocks nothing.
func (p *Policy) Blocks(target string) bool {
	if p == nil || len(p.blocked) == 0 || target == "" {
		return false
	}
	u, err := url.Parse(target)
	if err != nil {
		return false // stored targets were parsed when written; nothing to match here
	}
	_, blocked := p.blockedBy(u.Hostname())
	return blocked
}
