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
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestInvisibleASCIIFastPath: the ASCII shortcut of invisible answers as the Unicode tables do.
func TestInvisibleASCIIFastPath(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if want := unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r); invisible(r) != want {
			t.Errorf("invisible(%U) = %v, want %v", r, !want, want)
		}
	}
}
