package erp

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/internal/fsutil"
)

// decisionColumns is the header of a decisions CSV file. event numbers
// each decision once and for all: an ERP that reads a file twice can tell.
var decisionColumns = []string{
	"event", "exception_id", "rule", "partner", "po_number", "line_number", "decision",
	"expected", "actual", "actor", "comment", "decided_at",
}

// PushDecisions writes the decisions to Outbox as
// decisions-YYYYMMDDTHHMMSSZ-N.csv and the same name ending .jsonl, N
// being the lowest number not yet taken. Each file is written under a
// temporary name starting with a dot and ending .tmp, synced and renamed,
// so the ERP never sees half a file. No decisions, no files.
func (c *FileConnector) PushDecisions(ctx context.Context, decisions []gateway.Decision) error {
	if len(decisions) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	csvData, err := decisionsCSV(decisions)
	if err != nil {
		return err
	}
	jsonData, err := decisionsJSONLines(decisions)
	if err != nil {
		return err
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if err := os.MkdirAll(c.Outbox, 0o755); err != nil {
		return err
	}
	base, err := c.decisionsName()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(filepath.Join(c.Outbox, base+".jsonl"), jsonData, 0o644); err != nil {
		return err
	}
	if err := fsutil.WriteFile(filepath.Join(c.Outbox, base+".csv"), csvData, 0o644); err != nil {
		return err
	}
	return nil
}

// decisionsName returns the first decisions-STAMP-N name for which
// neither the .csv nor the .jsonl file exists.
func (c *FileConnector) decisionsName() (string, error) {
	stamp := c.now().Format("20060102T150405Z")
	for n := 1; n <= 1000; n++ {
		base := fmt.Sprintf("decisions-%s-%d", stamp, n)
		free := true
		for _, ext := range []string{".csv", ".jsonl"} {
			_, err := os.Lstat(filepath.Join(c.Outbox, base+ext))
			if err == nil {
				free = false
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		if free {
			return base, nil
		}
	}
	return "", fmt.Errorf("%s: too many decision files for %s", c.Outbox, stamp)
}

// decisionsCSV renders decisions as CSV with a header row; decided_at is
// RFC 3339 in UTC, empty when unset.
func decisionsCSV(decisions []gateway.Decision) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(decisionColumns); err != nil {
		return nil, err
	}
	for _, d := range decisions {
		decided := ""
		if !d.DecidedAt.IsZero() {
			decided = d.DecidedAt.UTC().Format(time.RFC3339)
		}
		rec := []string{strconv.FormatInt(d.Event, 10), d.ExceptionID, d.Rule, d.Partner, d.PONumber, d.LineNumber, d.Decision,
			d.Expected, d.Actual, d.Actor, d.Comment, decided}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// decisionsJSONLines renders decisions as JSON lines, times in UTC.
func decisionsJSONLines(decisions []gateway.Decision) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, d := range decisions {
		d.DecidedAt = d.DecidedAt.UTC()
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
