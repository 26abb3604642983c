package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/internal/fsutil"
)

// fileKinds are the files of one report, in the order Write returns them
// and List lists them: each named prefix + date + suffix.
var fileKinds = []struct{ prefix, suffix string }{
	{"report-", ".html"},
	{"suppliers-", ".csv"},
	{"exceptions-by-rule-", ".csv"},
	{"aging-", ".csv"},
}

// Entry is a report present in a directory.
type Entry struct {
	Date  string   `json:"date"`  // YYYY-MM-DD
	Files []string `json:"files"` // paths, in the order Write returns them
}

// Write creates dir if needed and writes r as report-DATE.html,
// suppliers-DATE.csv, exceptions-by-rule-DATE.csv and aging-DATE.csv,
// each atomically (a temporary file renamed into place), replacing any
// earlier report of the same day. It returns the paths written.
func Write(dir string, r Report) (files []string, err error) {
	if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
		return nil, gateway.Errorf(gateway.EINVALID, "report date %q is not YYYY-MM-DD", r.Date)
	}
	page, err := renderHTML(r)
	if err != nil {
		return nil, fmt.Errorf("rendering report %s: %w", r.Date, err)
	}
	contents := [][]byte{page}
	for _, render := range []func(Report) ([]byte, error){suppliersCSV, exceptionsCSV, agingCSV} {
		b, err := render(r)
		if err != nil {
			return nil, fmt.Errorf("rendering report %s: %w", r.Date, err)
		}
		contents = append(contents, b)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating report directory: %w", err)
	}
	for i, k := range fileKinds {
		path := filepath.Join(dir, k.prefix+r.Date+k.suffix)
		if err := fsutil.WriteFile(path, contents[i], 0o644); err != nil {
			return files, fmt.Errorf("writing %s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// List returns the reports present in dir, newest first. A missing dir
// holds no reports.
func List(dir string) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}
	byDate := map[string][]string{}
	for _, de := range des {
		if de.IsDir() {
			continue
		}
		name := de.Name()
		for i, k := range fileKinds {
			date, ok := strings.CutPrefix(name, k.prefix)
			if !ok {
				continue
			}
			if date, ok = strings.CutSuffix(date, k.suffix); !ok {
				continue
			}
			if _, err := time.Parse(time.DateOnly, date); err != nil {
				continue
			}
			if byDate[date] == nil {
				byDate[date] = make([]string, len(fileKinds))
			}
			byDate[date][i] = filepath.Join(dir, name)
		}
	}
	entries := make([]Entry, 0, len(byDate))
	for date, files := range byDate {
		entries = append(entries, Entry{Date: date, Files: slices.DeleteFunc(files, func(f string) bool { return f == "" })})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(b.Date, a.Date) })
	return entries, nil
}
