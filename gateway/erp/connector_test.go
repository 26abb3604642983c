package erp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edigate/edigate/gateway"
)

// clock is the fixed time of connector tests.
var clock = time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC)

// MustConnector returns a FileConnector on fresh directories with a fixed
// clock.
func MustConnector(tb testing.TB) *FileConnector {
	tb.Helper()
	dir := tb.TempDir()
	c := &FileConnector{
		Inbox:  filepath.Join(dir, "inbox"),
		Outbox: filepath.Join(dir, "outbox"),
		Now:    func() time.Time { return clock.In(time.FixedZone("CET", 3600)) },
	}
	if err := os.MkdirAll(c.Inbox, 0o755); err != nil {
		tb.Fatal(err)
	}
	return c
}

// listDir returns the names in dir, "/"-suffixed for directories.
func listDir(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	names := []string{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	return names
}

// readFile returns a file's content.
func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestFileConnectorPullCommit(t *testing.T) {
	c := MustConnector(t)
	good := defaultHeader + "acme,4500,2024-03-01,1,,,1,EA,,\n"
	MustWriteFile(t, c.Inbox, "a.csv", good)
	MustWriteFile(t, c.Inbox, "b.jsonl", `{"partner":"beta","po_number":7,"line_number":1,"quantity":2,"uom":"EA"}`+"\n"+`{"partner":"beta"}`+"\n")
	MustWriteFile(t, c.Inbox, "c.csv", "partner,po\n")
	MustWriteFile(t, c.Inbox, ".hidden.csv", good)
	MustWriteFile(t, c.Inbox, "d.csv.part", good)
	MustWriteFile(t, c.Inbox, "e.tmp", good)
	MustWriteFile(t, c.Inbox, "sub/f.csv", good)
	MustWriteFile(t, c.Inbox, "done/a.csv", "an earlier a.csv\n")

	orders, problems, err := c.Pull(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// beta's PO 7 is held back: the second row of b.jsonl is beta's, with
	// no PO number, so it could belong to PO 7.
	wantOrders := []gateway.Order{
		order("a.csv", "acme", "4500", "2024-03-01", line("1", "", "", "1", "EA", "", "")),
	}
	if !reflect.DeepEqual(orders, wantOrders) {
		t.Errorf("orders:\n%s\nwant:\n%s", asJSON(orders), asJSON(wantOrders))
	}
	wantProblems := []string{
		"b.jsonl:2: column po_number: missing value",
		"b.jsonl:2: column line_number: missing value",
		"b.jsonl:2: column quantity: missing value",
		"b.jsonl:2: column uom: missing value",
		"b.jsonl:2: purchase order held back: PO 7 of beta is not imported from this file, so that it keeps all its lines; fix the row and export it again",
		`c.csv:1: missing column "po_number", "line_number", "quantity", "uom"; headers found: "partner", "po"`,
	}
	if got := errorStrings(problems); !reflect.DeepEqual(got, wantProblems) {
		t.Errorf("problems:\n%q\nwant:\n%q", got, wantProblems)
	}

	if err := c.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{c.Inbox, []string{".hidden.csv", "d.csv.part", "done/", "e.tmp", "failed/", "sub/"}},
		{filepath.Join(c.Inbox, DoneDir), []string{"a-20240301T123045Z.csv", "a.csv", "b.jsonl"}},
		{filepath.Join(c.Inbox, FailedDir), []string{"c.csv"}},
	} {
		if got := listDir(t, tc.dir); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s holds %q, want %q", tc.dir, got, tc.want)
		}
	}
	if got := readFile(t, filepath.Join(c.Inbox, DoneDir, "a.csv")); got != "an earlier a.csv\n" {
		t.Errorf("done/a.csv overwritten: %q", got)
	}
	if got := readFile(t, filepath.Join(c.Inbox, DoneDir, "a-20240301T123045Z.csv")); got != good {
		t.Errorf("done/a-20240301T123045Z.csv = %q", got)
	}

	orders, problems, err = c.Pull(context.Background())
	if err != nil || len(orders) != 0 || len(problems) != 0 {
		t.Errorf("second Pull = %v, %v, %v; want nothing", orders, problems, err)
	}
	if err := c.Commit(context.Background()); err != nil {
		t.Errorf("Commit with nothing pulled: %v", err)
	}
}

func TestFileConnectorCommit(t *testing.T) {
	good := defaultHeader + "acme,4500,,1,,,1,EA,,\n"
	for _, tc := range []struct {
		name     string
		existing []string                         // already in done/
		between  func(t *testing.T, inbox string) // after Pull, before Commit
		inbox    []string
		done     []string
	}{
		{name: "moved", inbox: []string{"done/"}, done: []string{"o.csv"}},
		{
			name:     "second collision gets a counter",
			existing: []string{"o.csv", "o-20240301T123045Z.csv"},
			inbox:    []string{"done/"},
			done:     []string{"o-20240301T123045Z-2.csv", "o-20240301T123045Z.csv", "o.csv"},
		},
		{
			name: "changed after Pull stays",
			between: func(t *testing.T, inbox string) {
				MustWriteFile(t, inbox, "o.csv", good+"acme,4500,,2,,,1,EA,,\n")
			},
			inbox: []string{"o.csv"},
		},
		{
			name:    "gone after Pull is forgotten",
			between: func(t *testing.T, inbox string) { os.Remove(filepath.Join(inbox, "o.csv")) },
			inbox:   []string{},
		},
		{
			name:    "new file after Pull stays",
			between: func(t *testing.T, inbox string) { MustWriteFile(t, inbox, "p.csv", good) },
			inbox:   []string{"done/", "p.csv"},
			done:    []string{"o.csv"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := MustConnector(t)
			MustWriteFile(t, c.Inbox, "o.csv", good)
			for _, name := range tc.existing {
				MustWriteFile(t, filepath.Join(c.Inbox, DoneDir), name, "old\n")
			}
			if _, _, err := c.Pull(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tc.between != nil {
				tc.between(t, c.Inbox)
			}
			if err := c.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := listDir(t, c.Inbox); !reflect.DeepEqual(got, tc.inbox) {
				t.Errorf("inbox holds %q, want %q", got, tc.inbox)
			}
			if tc.done != nil {
				if got := listDir(t, filepath.Join(c.Inbox, DoneDir)); !reflect.DeepEqual(got, tc.done) {
					t.Errorf("done/ holds %q, want %q", got, tc.done)
				}
			}
		})
	}
}

func TestFileConnectorPullErrors(t *testing.T) {
	t.Run("no inbox", func(t *testing.T) {
		c := MustConnector(t)
		c.Inbox = filepath.Join(c.Inbox, "missing")
		if _, _, err := c.Pull(context.Background()); err == nil {
			t.Error("no error")
		}
	})
	t.Run("invalid mapping", func(t *testing.T) {
		c := MustConnector(t)
		c.Mapping = Mapping{Delimiter: "ab"}
		if _, _, err := c.Pull(context.Background()); err == nil {
			t.Error("no error")
		}
	})
	t.Run("canceled", func(t *testing.T) {
		c := MustConnector(t)
		MustWriteFile(t, c.Inbox, "o.csv", defaultHeader)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := c.Pull(ctx); err != context.Canceled {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if err := c.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := listDir(t, c.Inbox); !reflect.DeepEqual(got, []string{"o.csv"}) {
			t.Errorf("a canceled Pull remembered files: inbox holds %q", got)
		}
	})
}

func TestPushDecisions(t *testing.T) {
	decisions := []gateway.Decision{
		{
			Event: 7, ExceptionID: "exc_1", Rule: "price", Partner: "acme", PONumber: "4500", LineNumber: "1",
			Decision: "accepted", Expected: "1.50", Actual: "1.60", Actor: "anna",
			Comment: `ok, "new" list price`, DecidedAt: time.Date(2024, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)),
		},
		{
			Event: 9, ExceptionID: "exc_2", Rule: "quantity", Partner: "beta", PONumber: "77",
			Decision: "rejected", Expected: "10", Actual: "8", Actor: "ben",
			DecidedAt: time.Date(2024, 3, 1, 12, 5, 9, 500, time.UTC),
		},
	}
	const wantCSV = "event,exception_id,rule,partner,po_number,line_number,decision,expected,actual,actor,comment,decided_at\n" +
		"7,exc_1,price,acme,4500,1,accepted,1.50,1.60,anna,\"ok, \"\"new\"\" list price\",2024-03-01T12:00:00Z\n" +
		"9,exc_2,quantity,beta,77,,rejected,10,8,ben,,2024-03-01T12:05:09Z\n"

	c := MustConnector(t)
	if err := c.PushDecisions(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Outbox); !os.IsNotExist(err) {
		t.Errorf("no decisions created the outbox: %v", err)
	}
	for range 2 {
		if err := c.PushDecisions(context.Background(), decisions); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"decisions-20240301T123045Z-1.csv", "decisions-20240301T123045Z-1.jsonl",
		"decisions-20240301T123045Z-2.csv", "decisions-20240301T123045Z-2.jsonl",
	}
	if got := listDir(t, c.Outbox); !reflect.DeepEqual(got, want) {
		t.Fatalf("outbox holds %q, want %q", got, want)
	}
	for _, name := range want {
		info, err := os.Stat(filepath.Join(c.Outbox, name))
		if err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v", name, info.Mode(), err)
		}
	}
	if got := readFile(t, filepath.Join(c.Outbox, want[0])); got != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, wantCSV)
	}

	var got []gateway.Decision
	sc := bufio.NewScanner(bytes.NewReader([]byte(readFile(t, filepath.Join(c.Outbox, want[1])))))
	for sc.Scan() {
		var d gateway.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		got = append(got, d)
	}
	if len(got) != len(decisions) {
		t.Fatalf("%d JSON lines, want %d", len(got), len(decisions))
	}
	for i := range got {
		if !got[i].DecidedAt.Equal(decisions[i].DecidedAt) || got[i].DecidedAt.Location() != time.UTC {
			t.Errorf("decided_at %v, want %v in UTC", got[i].DecidedAt, decisions[i].DecidedAt)
		}
		got[i].DecidedAt, decisions[i].DecidedAt = time.Time{}, time.Time{}
	}
	if !slices.EqualFunc(got, decisions, func(a, b gateway.Decision) bool { return a == b }) {
		t.Errorf("JSON lines:\n%s\nwant:\n%s", asJSON(got), asJSON(decisions))
	}
}

func TestPushDecisionsConcurrently(t *testing.T) {
	c := MustConnector(t)
	d := []gateway.Decision{{ExceptionID: "exc_1", Decision: "accepted", DecidedAt: clock}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := c.PushDecisions(context.Background(), d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := listDir(t, c.Outbox); len(got) != 16 {
		t.Errorf("outbox holds %d files, want 16: %q", len(got), got)
	}
}

func TestDecisionsJSONLine(t *testing.T) {
	d := gateway.Decision{
		ExceptionID: "exc_1", Rule: "price", Partner: "acme", PONumber: "4500", Decision: "accepted",
		Expected: "1", Actual: "2", Actor: "anna", DecidedAt: time.Date(2024, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	b, err := decisionsJSONLines([]gateway.Decision{d})
	if err != nil {
		t.Fatal(err)
	}
	d.DecidedAt = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	want, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(want)+"\n" {
		t.Errorf("JSON line:\n%s\nwant:\n%s", b, want)
	}
}
