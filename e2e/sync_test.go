package e2e

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tailor/tailor/shared/abi"
	"github.com/tailor/tailor/shared/frame"
)

// rulesWith is a small operator rule set whose one variant is named variant.
func rulesWith(variant string) string {
	return `{"name":"e2e","k":1,"goals":[{"id":"buy"}],
	 "segments":[{"id":"everyone","when":{"all":[]}}],
	 "slots":[{"id":"hero","default":{"id":"d","text":"Hello"},
	   "variants":[{"id":"` + variant + `","when":{"segment":"everyone"},"text":"` + strings.ToUpper(variant) + `"}]}]}`
}

func newVisitor(t *testing.T, seed string) *visitor {
	e := newEngine(t)
	if err := e.Restore(abi.Restore{Seed: seed, Now: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, e: e, acked: map[uint64]bool{}}
}

func shows(v *visitor, variant string) func() bool {
	return func() bool {
		v.mu.Lock()
		d, err := v.e.Decide(abi.Page{Now: time.Now().UnixMilli(), All: true})
		v.mu.Unlock()
		return err == nil && len(d.Decisions) == 1 && d.Decisions[0].Variant == variant
	}
}

// Several engines on real websockets to the real server binary: a push reaches all of them and changes
// their decisions, their counts show in the stats, and one that comes back holding an old version gets a
// delta, not the full set.
func TestSyncPushCountsAndDelta(t *testing.T) {
	srv := startServer(t, "", "--k", "1")
	if code := srv.api("POST", "/api/rules", rulesWith("first"), nil); code != 201 && code != 200 {
		t.Fatalf("push: HTTP %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	visitors := make([]*visitor, 5)
	for i := range visitors {
		visitors[i] = newVisitor(t, "visitor-"+strconv.Itoa(i))
		if err := visitors[i].connect(ctx, srv.url); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range visitors {
		eventually(t, "every engine has the first set", shows(v, "first"))
	}
	if code := srv.api("POST", "/api/rules", rulesWith("second"), nil); code != 201 && code != 200 {
		t.Fatalf("second push: HTTP %d", code)
	}
	for _, v := range visitors {
		eventually(t, "the push reached every engine", shows(v, "second"))
	}
	for i, v := range visitors {
		id, err := v.sendCounts(ctx, uint64(1000+i))
		if err != nil || id == 0 {
			t.Fatalf("visitor %d sent no counts: %v", i, err)
		}
		eventually(t, "the batch is acknowledged", func() bool { return v.isAcked(id) })
	}
	sums := srv.sums()
	for _, key := range []string{"exposure|hero|first||||personalized", "exposure|hero|second||||personalized", "segment||||everyone||"} {
		if sums[key] != 5 {
			t.Errorf("stats %s = %d, want 5 (all: %v)", key, sums[key], sums)
		}
	}

	// One visitor leaves holding version 2; the operator pushes twice; it comes back.
	away := visitors[0]
	away.conn.Close(4000, "bye")
	srv.api("POST", "/api/rules", rulesWith("third"), nil)
	srv.api("POST", "/api/rules", rulesWith("fourth"), nil)
	before := away.received(frame.KindDelta)
	if err := away.connect(ctx, srv.url); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the returning engine catches up", shows(away, "fourth"))
	if away.received(frame.KindDelta) != before+1 {
		t.Errorf("the returning engine got frames %v, want one delta more", away.frames)
	}
}

// kill -9 while engines stream batches; restart on the same data: every acknowledged increment is there
// and nothing is counted twice, wherever the crash fell between storing a batch and acknowledging it.
func TestSyncKill9(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data, "--k", "1")
	if code := srv.api("POST", "/api/rules", rulesWith("v"), nil); code != 201 && code != 200 {
		t.Fatalf("push: HTTP %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const visitors, rounds = 10, 20
	var (
		mu    sync.Mutex
		url   = srv.url
		acked int
	)
	current := func() string { mu.Lock(); defer mu.Unlock(); return url }
	var wg sync.WaitGroup
	errs := make(chan error, visitors)
	for i := 0; i < visitors; i++ {
		v := newVisitor(t, "kill-"+strconv.Itoa(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- streamBatches(ctx, v, i, rounds, current, func() { mu.Lock(); acked++; mu.Unlock() })
		}()
	}
	// Kill part way through the stream.
	eventually(t, "a third of the batches are acknowledged", func() bool { mu.Lock(); defer mu.Unlock(); return acked >= visitors*rounds/3 })
	srv.kill()
	mu.Lock()
	t.Logf("killed after %d of %d batches were acknowledged", acked, visitors*rounds)
	mu.Unlock()
	srv = startServer(t, data, "--k", "1")
	mu.Lock()
	url = srv.url
	mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := int64(0)
	for key, n := range srv.sums() {
		if strings.HasPrefix(key, "exposure|hero|v|") {
			total += n
		}
	}
	// Each visitor decided once per round, and once more today when it checked the rules had arrived.
	if want := int64(visitors * (rounds + 1)); total != want {
		t.Errorf("after the crash the stats count %d exposures, want exactly %d", total, want)
	}
}

// streamBatches has one visitor decide in rounds report windows (one exposure each) and send each
// round's batch, reconnecting to wherever the server now is whenever a batch goes unacknowledged.
func streamBatches(ctx context.Context, v *visitor, i, rounds int, url func() string, onAck func()) error {
	const day = 86400000
	// Past windows, one per round: the server refuses windows that have not begun.
	start := time.Now().UnixMilli() - int64(rounds+1)*day
	connectedTo := ""
	// reconnect follows the server wherever it is now; the kill may come before a slow visitor's first
	// connection, so every connection is retried.
	reconnect := func() {
		if u := url(); u != connectedTo && v.connect(ctx, u) == nil {
			connectedTo = u
		}
	}
	for end := time.Now().Add(20 * time.Second); !shows(v, "v")(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return errors.New("the rule set never arrived")
		}
		reconnect()
	}
	for r := 0; r < rounds; r++ {
		if _, err := v.decide(start + int64(r)*day); err != nil {
			return err
		}
		id := uint64(i*1000 + r + 1)
		for deadline := time.Now().Add(20 * time.Second); ; {
			if time.Now().After(deadline) {
				return errors.New("batch " + strconv.FormatUint(id, 10) + " never acknowledged")
			}
			if reconnect(); connectedTo != url() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			sent, err := v.sendCounts(ctx, id)
			if err == nil && sent != id {
				return errors.New("the engine sent batch " + strconv.FormatUint(sent, 10) + ", not " + strconv.FormatUint(id, 10))
			}
			if waitAck(v, id, 300*time.Millisecond) {
				onAck()
				break
			}
		}
	}
	return nil
}

func waitAck(v *visitor, id uint64, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if v.isAcked(id) {
			return true
		}
	}
	return false
}
