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

package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// maxLoad bounds the requests each kind of load sends, whatever happens to the test.
const maxLoad = 500_000

// load is workers redirecting /hot on every redirector until stopped, and one asking each
// redirector's API, whose rate limits must answer throughout: from Redis, or from each pod's
// share while Redis cannot.
type load struct {
	done                chan struct{}
	wg                  sync.WaitGroup
	total, failed       atomic.Int64
	apiTotal, apiFailed atomic.Int64
}

func startLoad(t *testing.T, client *http.Client, rs []*redirectorProcess) *load {
	l := &load{done: make(chan struct{})}
	for w := range 4 {
		r := rs[w%len(rs)]
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				if l.total.Add(1) > maxLoad {
					return
				}
				req := mustRequest(t, "http://"+r.addr+"/hot")
				req.Host = "sho.rt"
				resp, err := client.Do(req)
				if err != nil {
					l.failed.Add(1)
					continue
				}
				_ = resp.Body.Close()
				if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || (loc != hotTarget && loc != hotTargetAfter) {
					l.failed.Add(1)
				}
			}
		})
	}
	for _, r := range rs {
		l.wg.Go(func() { l.askAPI(t, client, r) })
	}
	t.Cleanup(func() { l.stop() })
	return l
}

// askAPI sends API requests for clients cycling over 250 addresses, paced, until stopped; any
// answer but 404 (allowed; the link does not exist) or 429 (limited) is a failure.
func (l *load) askAPI(t *testing.T, client *http.Client, r *redirectorProcess) {
	for i := 0; ; i++ {
		select {
		case <-l.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if l.apiTotal.Add(1) > maxLoad {
			return
		}
		req := mustRequest(t, "http://"+r.apiAddrOrAddr()+"/api/v1/links/nope")
		req.Host = "sho.rt"
		req.Header.Set("Authorization", "Bearer 0123456789abcdef")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%250))
		resp, err := client.Do(req)
		if err != nil {
			l.apiFailed.Add(1)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusTooManyRequests {
			l.apiFailed.Add(1)
		}
	}
}

// stop ends the load, once, and returns how many redirects were sent and how many failed.
func (l *load) stop() (total, failed int64) {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
	return min(l.total.Load(), maxLoad), l.failed.Load()
}
