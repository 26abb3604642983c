package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

func ptr[T any](v T) *T { return &v }

func TestReceive(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	payload := "ISA*00*          *00*          *ZZ*ACME~"
	rc := gateway.Receipt{Partner: "acme", Transport: gateway.TransportAS2, Filename: "po.edi", AS2MessageID: "<1@acme>"}
	m := mustReceive(t, db, rc, payload)

	if !regexp.MustCompile(`^msg_[0-9a-f]{20}$`).MatchString(m.ID) {
		t.Errorf("ID = %q, want msg_ and 20 hex", m.ID)
	}
	if !regexp.MustCompile(`^cor_[0-9a-f]{20}$`).MatchString(m.CorrelationID) {
		t.Errorf("CorrelationID = %q, want cor_ and 20 hex", m.CorrelationID)
	}
	want := &gateway.Message{
		ID: m.ID, CorrelationID: m.CorrelationID, Partner: "acme", Transport: gateway.TransportAS2,
		Filename: "po.edi", SHA256: sum([]byte(payload)), Size: int64(len(payload)),
		AS2MessageID: "<1@acme>", State: gateway.StateReceived,
		ReceivedAt: clk.Now(), UpdatedAt: clk.Now(),
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Receive = %+v\nwant %+v", m, want)
	}
	if got := mustMessage(t, db, m.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("Message = %+v\nwant %+v", got, want)
	}
	if b := readPayload(t, db, m); string(b) != payload {
		t.Errorf("payload = %q, want %q", b, payload)
	}
	// Content address, and nothing left in tmp.
	if _, err := os.Stat(filepath.Join(db.archive, m.SHA256[:2], m.SHA256)); err != nil {
		t.Errorf("archived file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(db.archive, tmpDir)); len(entries) != 0 {
		t.Errorf("archive/tmp holds %d files after Receive", len(entries))
	}

	t.Run("correlation ID from the receipt", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "acme", CorrelationID: "cor_given"}, "other")
		if m.CorrelationID != "cor_given" {
			t.Errorf("CorrelationID = %q", m.CorrelationID)
		}
	})
	t.Run("empty payload", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "")
		if m.Size != 0 || m.SHA256 != sum(nil) {
			t.Errorf("empty payload: size %d sha %s", m.Size, m.SHA256)
		}
	})
	t.Run("no partner", func(t *testing.T) {
		_, err := db.Receive(ctx, gateway.Receipt{}, strings.NewReader("x"))
		if gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("error %v, want EINVALID", err)
		}
	})
	t.Run("reader fails", func(t *testing.T) {
		before, _ := db.Messages(ctx, gateway.MessageFilter{})
		_, err := db.Receive(ctx, gateway.Receipt{Partner: "acme"}, &failingReader{n: 5000})
		if err == nil || !strings.HasPrefix(err.Error(), "archiving payload: ") || !errors.Is(err, errBroken) {
			t.Errorf("error %v, want archiving payload: ... broken", err)
		}
		after, _ := db.Messages(ctx, gateway.MessageFilter{})
		if len(after) != len(before) {
			t.Errorf("a message was recorded for a failed payload")
		}
		if entries, _ := os.ReadDir(filepath.Join(db.archive, tmpDir)); len(entries) != 0 {
			t.Errorf("archive/tmp holds %d files after a failed Receive", len(entries))
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.Receive(ctx, gateway.Receipt{Partner: "acme"}, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

var errBroken = errors.New("broken")

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBroken
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestReceiveDuplicates(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	first := mustReceive(t, db, gateway.Receipt{Partner: "acme", AS2MessageID: "<a@acme>"}, "same bytes")

	t.Run("same partner, same bytes", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "same bytes")
		if m.State != gateway.StateDuplicate || m.DuplicateOf != first.ID {
			t.Errorf("state %s duplicate_of %q, want duplicate of %s", m.State, m.DuplicateOf, first.ID)
		}
		// A third copy points at the first, not at the second.
		m3 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "same bytes")
		if m3.DuplicateOf != first.ID {
			t.Errorf("third copy duplicate_of %q, want %s", m3.DuplicateOf, first.ID)
		}
		if got := mustMessage(t, db, m3.ID); got.State != gateway.StateDuplicate || got.DuplicateOf != first.ID {
			t.Errorf("stored: %s %q", got.State, got.DuplicateOf)
		}
	})
	t.Run("other partner, same bytes", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "globex"}, "same bytes")
		if m.State != gateway.StateReceived || m.DuplicateOf != "" {
			t.Errorf("state %s duplicate_of %q, want received", m.State, m.DuplicateOf)
		}
	})
	t.Run("same AS2 Message-ID, other bytes", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "acme", AS2MessageID: "<a@acme>"}, "other bytes")
		if m.State != gateway.StateDuplicate || m.DuplicateOf != first.ID {
			t.Errorf("state %s duplicate_of %q, want duplicate of %s", m.State, m.DuplicateOf, first.ID)
		}
		got, err := db.MessageByAS2ID(ctx, "acme", "<a@acme>")
		if err != nil || got.ID != first.ID {
			t.Errorf("MessageByAS2ID = %v, %v, want %s", got, err, first.ID)
		}
	})
	t.Run("same AS2 Message-ID, other partner", func(t *testing.T) {
		m := mustReceive(t, db, gateway.Receipt{Partner: "globex", AS2MessageID: "<a@acme>"}, "globex bytes")
		if m.State != gateway.StateReceived {
			t.Errorf("state %s, want received", m.State)
		}
	})
	t.Run("rejected message does not count", func(t *testing.T) {
		r := mustReceive(t, db, gateway.Receipt{Partner: "initech"}, "not x12")
		if err := db.UpdateMessage(ctx, r.ID, gateway.MessageUpdate{State: ptr(gateway.StateRejected)}); err != nil {
			t.Fatal(err)
		}
		m := mustReceive(t, db, gateway.Receipt{Partner: "initech"}, "not x12")
		if m.State != gateway.StateReceived {
			t.Errorf("resent after rejection: state %s duplicate_of %q, want received", m.State, m.DuplicateOf)
		}
		again := mustReceive(t, db, gateway.Receipt{Partner: "initech"}, "not x12")
		if again.DuplicateOf != m.ID {
			t.Errorf("third copy duplicate_of %q, want %s (the first not rejected)", again.DuplicateOf, m.ID)
		}
	})
}

func TestConcurrentReceive(t *testing.T) {
	db := MustOpenDB(t)
	const goroutines, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	ids := make(chan string, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				// Every goroutine also sends one shared payload.
				payload := fmt.Sprintf("payload %d/%d", g, i)
				if i == 0 {
					payload = "shared"
				}
				m, err := db.Receive(context.Background(), gateway.Receipt{Partner: "acme"}, strings.NewReader(payload))
				if err != nil {
					errs <- err
					continue
				}
				ids <- m.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %s given twice", id)
		}
		seen[id] = true
	}
	ms, err := db.Messages(context.Background(), gateway.MessageFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != goroutines*each {
		t.Fatalf("%d messages stored, want %d", len(ms), goroutines*each)
	}
	// Exactly one of the shared copies is the original.
	var originals, dups int
	for _, m := range ms {
		if string(readPayload(t, db, m)) != "shared" {
			continue
		}
		if m.State == gateway.StateReceived {
			originals++
		} else {
			dups++
		}
	}
	if originals != 1 || dups != goroutines-1 {
		t.Errorf("shared payload: %d originals, %d duplicates; want 1 and %d", originals, dups, goroutines-1)
	}
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	var acme []*gateway.Message
	for i := range 4 {
		acme = append(acme, mustReceive(t, db, gateway.Receipt{Partner: "acme"}, fmt.Sprint("acme ", i)))
	}
	globex := mustReceive(t, db, gateway.Receipt{Partner: "globex"}, "globex")
	if err := db.UpdateMessage(ctx, acme[1].ID, gateway.MessageUpdate{State: ptr(gateway.StateDead)}); err != nil {
		t.Fatal(err)
	}

	ids := func(ms []*gateway.Message) []string {
		var s []string
		for _, m := range ms {
			s = append(s, m.ID)
		}
		return s
	}
	for _, c := range []struct {
		name string
		f    gateway.MessageFilter
		want []string
	}{
		{"all, newest first", gateway.MessageFilter{}, []string{globex.ID, acme[3].ID, acme[2].ID, acme[1].ID, acme[0].ID}},
		{"partner", gateway.MessageFilter{Partner: "acme"}, []string{acme[3].ID, acme[2].ID, acme[1].ID, acme[0].ID}},
		{"state", gateway.MessageFilter{State: gateway.StateDead}, []string{acme[1].ID}},
		{"partner and state", gateway.MessageFilter{Partner: "globex", State: gateway.StateDead}, nil},
		{"limit", gateway.MessageFilter{Limit: 2}, []string{globex.ID, acme[3].ID}},
		{"offset", gateway.MessageFilter{Limit: 2, Offset: 3}, []string{acme[1].ID, acme[0].ID}},
		{"unknown partner", gateway.MessageFilter{Partner: "nobody"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ms, err := db.Messages(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if ms == nil {
				t.Error("nil slice, want empty")
			}
			if got := ids(ms); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}

	t.Run("default limit 100", func(t *testing.T) {
		db := MustOpenDB(t)
		insertMessages(t, db, 105)
		ms, err := db.Messages(ctx, gateway.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 100 {
			t.Errorf("%d messages, want 100", len(ms))
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := db.Message(ctx, "msg_nope")
		wantNotFound(t, "Message", err)
		_, err = db.MessageByAS2ID(ctx, "acme", "<nope>")
		wantNotFound(t, "MessageByAS2ID", err)
		_, err = db.MessageByAS2ID(ctx, "acme", "")
		wantNotFound(t, "MessageByAS2ID empty", err)
		_, err = db.Payload(ctx, &gateway.Message{ID: "msg_nope", SHA256: sum([]byte("never stored"))})
		wantNotFound(t, "Payload", err)
		_, err = db.Payload(ctx, &gateway.Message{ID: "msg_nope"})
		wantNotFound(t, "Payload by ID", err)
	})
	t.Run("payload by ID only", func(t *testing.T) {
		if b := readPayload(t, db, &gateway.Message{ID: globex.ID}); string(b) != "globex" {
			t.Errorf("payload = %q", b)
		}
	})
	t.Run("payload with a bad sha256", func(t *testing.T) {
		_, err := db.Payload(ctx, &gateway.Message{ID: "x", SHA256: "../../edigate.db"})
		if gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("error %v, want EINVALID", err)
		}
	})
}

// insertMessages adds n received messages directly, without payloads
// (fast: one transaction).
func insertMessages(tb testing.TB, db *DB, n int) {
	tb.Helper()
	tx, err := db.write.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	now := formatTime(time.Now())
	for i := range n {
		if _, err := tx.Exec(`INSERT INTO messages (id, correlation_id, partner, sha256, size, state, received_at, updated_at)
			VALUES (?, ?, 'bulk', ?, 0, 'received', ?, ?)`, newID("msg_"), newID("cor_"), sum([]byte(fmt.Sprint(i))), now, now); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

func TestClaimNext(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	const lease = time.Minute

	_, err := db.ClaimNext(ctx, clk.Now(), lease)
	wantNotFound(t, "ClaimNext on an empty queue", err)

	m1 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "one")
	mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "one") // duplicate: never claimed
	m2 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "two")
	m3 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "three")

	claim := func(now time.Time) string {
		t.Helper()
		m, err := db.ClaimNext(ctx, now, lease)
		if errors.Is(err, gateway.ErrNotFound) {
			return ""
		}
		if err != nil {
			t.Fatalf("ClaimNext: %v", err)
		}
		return m.ID
	}

	// m2 waits for a retry in the future.
	if err := db.UpdateMessage(ctx, m2.ID, gateway.MessageUpdate{NextAttempt: ptr(clk.Now().Add(30 * time.Second))}); err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	if got := claim(now); got != m1.ID {
		t.Fatalf("first claim = %s, want oldest %s", got, m1.ID)
	}
	if got := claim(now); got != m3.ID {
		t.Fatalf("second claim = %s, want %s (m1 leased, m2 not due)", got, m3.ID)
	}
	if got := claim(now); got != "" {
		t.Fatalf("third claim = %s, want none", got)
	}
	// 30 s later m2 is due; m1 and m3 are still leased.
	if got := claim(now.Add(30 * time.Second)); got != m2.ID {
		t.Fatalf("claim at +30s = %s, want %s", got, m2.ID)
	}
	if got := claim(now.Add(59 * time.Second)); got != "" {
		t.Fatalf("claim at +59s = %s, want none (all leased)", got)
	}
	// m1's worker "crashed": its lease expires and it is claimed again.
	if got := claim(now.Add(lease)); got != m1.ID {
		t.Fatalf("claim at lease expiry = %s, want %s again", got, m1.ID)
	}
	// m3 finishes: it leaves received, is never claimed again.
	if err := db.UpdateMessage(ctx, m3.ID, gateway.MessageUpdate{State: ptr(gateway.StateTranslated)}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(lease)); got != "" {
		t.Fatalf("claim = %s, want none (m1 re-leased, m2 leased until +90s, m3 done)", got)
	}
	// m2 fails and is scheduled for a retry: the lease is released, the
	// schedule decides.
	if err := db.UpdateMessage(ctx, m2.ID, gateway.MessageUpdate{
		Attempts: ptr(1), NextAttempt: ptr(now.Add(70 * time.Second)), Errors: []string{"boom"},
	}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(70 * time.Second)); got != m2.ID {
		t.Fatalf("claim of retried m2 = %s, want %s", got, m2.ID)
	}
	got := mustMessage(t, db, m2.ID)
	// The update said 1; the claim that followed counts as attempt 2.
	if got.Attempts != 2 || !reflect.DeepEqual(got.Errors, []string{"boom"}) {
		t.Errorf("m2 after retry: attempts %d errors %v, want 2 and [boom]", got.Attempts, got.Errors)
	}

	t.Run("invalid lease", func(t *testing.T) {
		_, err := db.ClaimNext(ctx, now, 0)
		if gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("error %v, want EINVALID", err)
		}
	})
	t.Run("concurrent claims take each message once", func(t *testing.T) {
		db := MustOpenDB(t)
		insertMessages(t, db, 40)
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			wg   sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				for {
					m, err := db.ClaimNext(ctx, time.Now(), time.Hour)
					if errors.Is(err, gateway.ErrNotFound) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen[m.ID]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 40 {
			t.Errorf("%d messages claimed, want 40", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s claimed %d times", id, n)
			}
		}
	})
}

func TestUpdateMessage(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	orig := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "original")
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "message")

	clk.Add(time.Minute)
	next := clk.Now().Add(time.Hour)
	if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{
		State: ptr(gateway.StateAcknowledged), Attempts: ptr(2), NextAttempt: &next,
		Errors: []string{"e1"}, Interchanges: []string{"000000001", "000000002"}, DuplicateOf: &orig.ID,
	}); err != nil {
		t.Fatal(err)
	}
	got := mustMessage(t, db, m.ID)
	if got.State != gateway.StateAcknowledged || got.Attempts != 2 || !got.NextAttempt.Equal(next) ||
		!reflect.DeepEqual(got.Errors, []string{"e1"}) || !reflect.DeepEqual(got.Interchanges, []string{"000000001", "000000002"}) ||
		got.DuplicateOf != orig.ID || !got.UpdatedAt.Equal(clk.Now()) || !got.ReceivedAt.Equal(m.ReceivedAt) {
		t.Errorf("after update: %+v", got)
	}

	// Nil fields are kept; errors are appended; interchanges replaced;
	// zero NextAttempt and empty DuplicateOf clear.
	if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{Errors: []string{"e2", "e3"}, Interchanges: []string{"000000009"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{NextAttempt: &time.Time{}, DuplicateOf: ptr("")}); err != nil {
		t.Fatal(err)
	}
	got = mustMessage(t, db, m.ID)
	if got.State != gateway.StateAcknowledged || got.Attempts != 2 || !got.NextAttempt.IsZero() || got.DuplicateOf != "" ||
		!reflect.DeepEqual(got.Errors, []string{"e1", "e2", "e3"}) || !reflect.DeepEqual(got.Interchanges, []string{"000000009"}) {
		t.Errorf("after second update: %+v", got)
	}
	// Interchanges: an empty non-nil slice clears.
	if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{Interchanges: []string{}}); err != nil {
		t.Fatal(err)
	}
	if got := mustMessage(t, db, m.ID); got.Interchanges != nil {
		t.Errorf("interchanges %v, want none", got.Interchanges)
	}

	for _, c := range []struct {
		name string
		id   string
		u    gateway.MessageUpdate
		code string
	}{
		{"not found", "msg_nope", gateway.MessageUpdate{State: ptr(gateway.StateDead)}, gateway.ENOTFOUND},
		{"unknown state", m.ID, gateway.MessageUpdate{State: ptr("bogus")}, gateway.EINVALID},
		{"negative attempts", m.ID, gateway.MessageUpdate{Attempts: ptr(-1)}, gateway.EINVALID},
		{"duplicate of nothing", m.ID, gateway.MessageUpdate{DuplicateOf: ptr("msg_nope")}, gateway.EINVALID},
		{"duplicate of itself", m.ID, gateway.MessageUpdate{DuplicateOf: &m.ID}, gateway.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := db.UpdateMessage(ctx, c.id, c.u)
			if gateway.ErrorCode(err) != c.code {
				t.Errorf("error %v, want code %s", err, c.code)
			}
			if c.code == gateway.ENOTFOUND && !errors.Is(err, gateway.ErrNotFound) {
				t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
			}
		})
	}

	t.Run("leaving received releases the lease", func(t *testing.T) {
		db := MustOpenDB(t)
		m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "x")
		now := time.Now()
		if _, err := db.ClaimNext(ctx, now, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{State: ptr(gateway.StateDead)}); err != nil {
			t.Fatal(err)
		}
		var lease *string
		if err := db.read.QueryRow(`SELECT lease_until FROM messages WHERE id = ?`, m.ID).Scan(&lease); err != nil {
			t.Fatal(err)
		}
		if lease != nil {
			t.Errorf("lease_until = %s after leaving received", *lease)
		}
		// An update that neither changes state nor schedules keeps it.
		if err := db.Requeue(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimNext(ctx, now, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{Interchanges: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimNext(ctx, now, time.Hour); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("claimed again while leased: %v", err)
		}
	})
}

func TestRequeue(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "x")
	now := time.Now()
	if _, err := db.ClaimNext(ctx, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateMessage(ctx, m.ID, gateway.MessageUpdate{
		State: ptr(gateway.StateDead), Attempts: ptr(5), NextAttempt: ptr(now.Add(time.Hour)), Errors: []string{"mapping failed"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Requeue(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	got := mustMessage(t, db, m.ID)
	if got.State != gateway.StateReceived || got.Attempts != 0 || !got.NextAttempt.IsZero() ||
		!reflect.DeepEqual(got.Errors, []string{"mapping failed"}) {
		t.Errorf("after Requeue: %+v", got)
	}
	c, err := db.ClaimNext(ctx, now, time.Hour)
	if err != nil || c.ID != m.ID {
		t.Errorf("ClaimNext after Requeue = %v, %v", c, err)
	}
	// Requeue also breaks a live lease (an operator's replay).
	if err := db.Requeue(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := db.ClaimNext(ctx, now, time.Hour); err != nil || c.ID != m.ID {
		t.Errorf("ClaimNext after second Requeue = %v, %v", c, err)
	}
	wantNotFound(t, "Requeue", db.Requeue(ctx, "msg_nope"))
}

func TestRecordInterchange(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	m1 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "one")
	m2 := mustReceive(t, db, gateway.Receipt{Partner: "acme"}, "two")
	m3 := mustReceive(t, db, gateway.Receipt{Partner: "globex"}, "three")

	for _, c := range []struct {
		name, partner, control, msg, want string
	}{
		{"new", "acme", "000000001", m1.ID, ""},
		{"same message again", "acme", "000000001", m1.ID, ""},
		{"another message", "acme", "000000001", m2.ID, m1.ID},
		{"other control", "acme", "000000002", m2.ID, ""},
		{"other partner, same control", "globex", "000000001", m3.ID, ""},
		{"after reuse, still the first", "acme", "000000001", m3.ID, m1.ID},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := db.RecordInterchange(ctx, c.partner, c.control, c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("RecordInterchange = %q, want %q", got, c.want)
			}
		})
	}
	_, err := db.RecordInterchange(ctx, "acme", "000000003", "msg_nope")
	wantNotFound(t, "RecordInterchange of an unknown message", err)
	if _, err := db.RecordInterchange(ctx, "acme", "", m1.ID); gateway.ErrorCode(err) != gateway.EINVALID {
		t.Errorf("empty control: %v, want EINVALID", err)
	}
}

func TestMDN(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme", AS2MessageID: "<1@acme>"}, "x")
	_, err := db.MDN(ctx, m.ID)
	wantNotFound(t, "MDN before SaveMDN", err)
	if err := db.SaveMDN(ctx, m.ID, []byte("mdn one")); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveMDN(ctx, m.ID, []byte("mdn two\x00\xff")); err != nil {
		t.Fatal(err)
	}
	got, err := db.MDN(ctx, m.ID)
	if err != nil || string(got) != "mdn two\x00\xff" {
		t.Errorf("MDN = %q, %v", got, err)
	}
	wantNotFound(t, "SaveMDN of an unknown message", db.SaveMDN(ctx, "msg_nope", []byte("x")))
}
