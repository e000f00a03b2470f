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

package breakdown

import "strings"

// Device classes. Bot is every visit internal/bots marks as a program's, whatever device its
// User-Agent names.
const (
	Desktop = "desktop"
	Mobile  = "mobile"
	Tablet  = "tablet"
	Bot     = "bot"
)

// tabletMarks name tablets in a User-Agent. Android tablets are told apart by their browsers
// leaving "Mobile" out (Google's advice to Android browsers, which Chrome, Samsung Internet
// and Silk follow); Amazon's Kindle Fire names itself KF*, Silk or Kindle.
var tabletMarks = []string{"iPad", "Tablet", "Kindle", "Silk/", "PlayBook"}

// mobileMarks name phones: "Mobi" covers "Mobile" and "Mobile Safari", and the rest name
// phone platforms whose browsers may leave it out.
var mobileMarks = []string{"Mobi", "iPhone", "iPod", "Android", "Windows Phone", "BlackBerry", "Opera Mini"}

// DeviceClass is the class of a visit with User-Agent ua, bot as internal/bots decided it.
// It is a handful of substring searches: cheap enough for the flush, which classifies each
// visit once. iPadOS Safari asking for desktop sites sends a Mac's User-Agent, and counts as
// desktop: nothing in the request tells it apart.
func DeviceClass(ua string, bot bool) string {
	switch {
	case bot:
		return Bot
	case containsAny(ua, tabletMarks):
		return Tablet
	case strings.Contains(ua, "Android") && !strings.Contains(ua, "Mobi"):
		return Tablet
	case containsAny(ua, mobileMarks):
		return Mobile
	default:
		return Desktop
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
