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

package stats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortlink-dev/shortlink/internal/store"
)

// Visit is one counted redirect, as the store writes it. A zero At means Options.Now at Record.
type Visit = store.Visit

// DefaultMaxPendingBytes is Options.MaxPendingBytes when it is not given: about 150,000 visits
// with the longest User-Agent and Referer kept, a million with typical ones.
const DefaultMaxPendingBytes = 256 << 20

// Options shape an Aggregator. Zero values take the defaults named below.
type Options struct {
	// PodID identifies this process in batch ids; default the host name. A random per-process
	// nonce is added, so a restarted container with the same name never reuses an id.
	PodID string
	// FlushInterval is the time between flushes; default 1s.
	FlushInterval time.Duration
	// BatchSize is the number of visits in one batch: a flush starts early when this many are
	// waiting; default 50,000. A batch's fixed cost is its counts, one visit_hours and one
	// url_stats row per link it touches, so under load a larger batch costs PostgreSQL less a
	// visit (BenchmarkFlush over 1,000 links: 1.0 µs a visit in batches of 50,000, 2.1 in
	// batches of 10,000); a chunk of this many visits is about 7 MB.
	BatchSize int
	// MaxPending bounds the visits held in memory, written or not, while PostgreSQL is down;
	// visits beyond it are dropped and counted; default 1,000,000.
	MaxPending int
	// MaxPendingBytes bounds the same visits by what they hold: each counts its own 136 bytes
	// and the bytes of its strings, User-Agent and Referer already cut to their stored length
	// (at most 1.7 KB a visit); default DefaultMaxPendingBytes. The chunks visits are gathered
	// in come on top: up to three of BatchSize visits' 136 bytes each (20 MB by default).
	MaxPendingBytes int64
	// FlushTimeout bounds one flush attempt; default 10s.
	FlushTimeout time.Duration
	// ShutdownTimeout bounds the final flush once Run's context ends; default 10s. Keep it
	// inside the pod's termination grace period.
	ShutdownTimeout time.Duration
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives failed and set-aside flushes; default slog.Default().
	Logger *slog.Logger
	// Now stamps visits recorded without a time; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.PodID == "" {
		o.PodID, _ = os.Hostname()
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 50_000
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1_000_000
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = 10 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Aggregator holds visits in memory and writes them to PostgreSQL in batches. Record may be
// called from any number of goroutines; Run and Flush serialise among themselves.
type Aggregator struct {
	opts  Options
	nonce string
	kick  chan struct{}
	m     metrics
	// write stores one batch (a store.VisitWriter's); benchmarks replace it to measure Record
	// alone.
	write func(ctx context.Context, b *batch) (duplicate bool, err error)

	mu sync.Mutex
	// cur gathers new visits; sealed holds full chunks, oldest first, waiting for a flush;
	// spare holds emptied chunks for reuse, so a steady state allocates nothing.
	cur    []Visit
	sealed [][]Visit
	spare  [][]Visit
	// held counts every visit not yet written or set aside: cur, sealed and the batch in flight;
	// heldBytes is what they hold (visitMemory).
	held      int
	heldBytes int64
	dropped   uint64

	flushMu sync.Mutex
	retry   *batch // a batch whose last attempt failed; written before any newer one
	seq     uint64

	// Run's own: drops already logged, and when the next log line may be written.
	dropsLogged uint64
	nextDropLog time.Time
}

// batch is a chunk of visits with the id it keeps across retries.
type batch struct {
	id       string
	visits   []Visit
	attempts int
}

// maxSpare bounds the emptied chunks kept for reuse, so memory returns to normal after an
// outage.
const maxSpare = 2

// New returns an Aggregator writing to st, whose pool may go through PgBouncer in transaction
// pooling mode. Start Run to flush.
func New(st *store.Store, opts Options) *Aggregator {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:]) // never fails since Go 1.24
	a := &Aggregator{
		opts:  opts.withDefaults(),
		nonce: hex.EncodeToString(nonce[:]),
		kick:  make(chan struct{}, 1),
	}
	w := st.NewVisitWriter() // used under flushMu only
	a.write = func(ctx context.Context, b *batch) (bool, error) { return w.Write(ctx, b.id, b.visits) }
	a.m = newMetrics(a.opts.Registerer, a)
	a.cur = a.newChunk()
	return a
}

// newChunk allocates room for a full batch at once, so that Record never grows a slice.
func (a *Aggregator) newChunk() []Visit { return make([]Visit, 0, a.opts.BatchSize) }

// Record counts a visit. It never waits for the database: it appends to memory under a short
// lock, or, when MaxPending visits or MaxPendingBytes are already held, drops the visit and
// counts it.
//
// User-Agent and Referer are cut to their stored length here (Visit.Bound), not at flush time:
// a held visit would otherwise keep a client's whole header (up to a megabyte) for as long as
// PostgreSQL is down.
func (a *Aggregator) Record(v Visit) {
	if v.At.IsZero() {
		v.At = a.opts.Now()
	}
	v.Bound()
	size := visitMemory(&v)
	a.mu.Lock()
	if a.held >= a.opts.MaxPending || a.heldBytes+size > a.opts.MaxPendingBytes {
		a.dropped++
		a.mu.Unlock()
		return
	}
	a.held++
	a.heldBytes += size
	a.cur = append(a.cur, v)
	full := len(a.cur) >= a.opts.BatchSize
	if full {
		a.sealLocked()
	}
	a.mu.Unlock()
	if full {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

// sealLocked closes the chunk being gathered, if it holds anything, and starts another.
func (a *Aggregator) sealLocked() {
	if len(a.cur) == 0 {
		return
	}
	a.sealed = append(a.sealed, a.cur)
	if n := len(a.spare); n > 0 {
		a.cur = a.spare[n-1]
		a.spare = a.spare[:n-1]
		return
	}
	a.cur = a.newChunk()
}

// sealAll seals what is being gathered and returns how many chunks wait to be flushed.
func (a *Aggregator) sealAll() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sealLocked()
	return len(a.sealed)
}

// pop takes the oldest sealed chunk as a new batch with the next id. Called under flushMu.
func (a *Aggregator) pop() *batch {
	a.mu.Lock()
	visits := a.sealed[0]
	a.sealed[0] = nil
	a.sealed = a.sealed[1:]
	a.mu.Unlock()
	a.seq++
	return &batch{id: a.opts.PodID + "/" + a.nonce + "/" + strconv.FormatUint(a.seq, 10), visits: visits}
}

// release forgets a batch that was written or set aside and keeps its chunk for reuse.
func (a *Aggregator) release(b *batch) {
	var size int64
	for i := range b.visits {
		size += visitMemory(&b.visits[i])
	}
	clear(b.visits) // drop the strings it points to
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held -= len(b.visits)
	a.heldBytes -= size
	if len(a.spare) < maxSpare {
		a.spare = append(a.spare, b.visits[:0])
	}
}

// pending is the number of visits held, for the gauge and logs.
func (a *Aggregator) pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held
}

// pendingBytes is what the held visits hold, for the gauge and logs.
func (a *Aggregator) pendingBytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.heldBytes
}

// visitSize is what a Visit holds besides its strings' bytes.
const visitSize = int64(unsafe.Sizeof(Visit{}))

// visitMemory is what v holds in memory, counted as if its strings were its own: the domain
// and code are usually shared with the link cache, so this overstates a little, never
// understates.
func visitMemory(v *Visit) int64 {
	return visitSize + int64(len(v.Domain)+len(v.Code)+len(v.UserAgent)+len(v.Referer)+len(v.Country))
}

// droppedTotal is the number of visits dropped because MaxPending or MaxPendingBytes were held.
func (a *Aggregator) droppedTotal() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}
