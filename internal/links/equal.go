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

import (
	"slices"
)

// SameDeclaration reports whether two links declare the same thing: every Link field but
// Version. The operator uses it to leave a Redis entry alone when it already holds the link.
// It is not the test for a urls row, which also carries install_id and the claim time: that is
// store.Declared.Unchanged, built from the same column list as the store's upsert.
func (l Link) SameDeclaration(o Link) bool {
	return l.Domain == o.Domain && l.Code == o.Code && l.Target == o.Target &&
		l.RedirectType == o.RedirectType && l.ForwardQuery == o.ForwardQuery &&
		l.ForwardPath == o.ForwardPath && l.MaxVisits == o.MaxVisits &&
		l.ValidSince.Equal(o.ValidSince) && l.ValidUntil.Equal(o.ValidUntil) &&
		l.ExpiredTarget == o.ExpiredTarget && l.Suspended == o.Suspended &&
		slices.Equal(l.Tags, o.Tags) && l.Source == o.Source &&
		l.Owner == o.Owner && l.OwnerUID == o.OwnerUID
}
