package translate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
)

// Report is the outcome of checking one partner.
type Report struct {
	Partner string
	Lines   []string
	Failed  bool
}

func (r *Report) ok(format string, args ...any) {
	r.Lines = append(r.Lines, "  ok    "+fmt.Sprintf(format, args...))
}

func (r *Report) fail(format string, args ...any) {
	r.Failed = true
	r.Lines = append(r.Lines, "  FAIL  "+fmt.Sprintf(format, args...))
}

// Sets are the transaction sets every partner is checked for.
var Sets = []string{"850", "855", "856", "810"}

// Check loads a partner's mappings and runs its samples: each inbound X12
// sample (samples/*.edi, *.x12, *.txt) must translate into exactly the
// canonical documents of its .jsonl beside it, and each canonical sample
// (samples/*.json) must become X12 that validates and translates back to
// the same mapped fields. With update, missing or different .jsonl files
// are (re)written instead of failing.
func (t *Translator) Check(p *partners.Partner, update bool) *Report {
	r := &Report{Partner: p.ID}
	for _, set := range Sets {
		sp, err := t.Spec(p, set, p.X12.Version)
		if err != nil {
			r.fail("mapping %s %s: %v", set, p.X12.Version, err)
			continue
		}
		r.ok("mapping %s %s: %s", set, p.X12.Version, strings.Join(sp.Files, " + "))
	}
	dir := filepath.Join(p.Dir, p.ID, "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		r.fail("samples: %v (put sample files in %s)", err, dir)
		return r
	}
	n := 0
	for _, e := range entries {
		name := filepath.Join(dir, e.Name())
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".edi", ".x12", ".txt":
			n++
			t.checkInbound(r, p, name, update)
		case ".json":
			n++
			t.checkOutbound(r, p, name)
		}
	}
	if n == 0 {
		r.fail("samples: %s holds no sample files (.edi, .x12, .txt or .json)", dir)
	}
	return r
}

func (t *Translator) checkInbound(r *Report, p *partners.Partner, name string, update bool) {
	f, err := os.Open(name)
	if err != nil {
		r.fail("%s: %v", name, err)
		return
	}
	defer f.Close()
	res, err := t.Inbound(bufio.NewReader(f), Options{File: name})
	if err != nil {
		r.fail("%s: %v", name, err)
		return
	}
	for _, u := range res.Unknown {
		r.fail("%s: the sender %s is not partner %s (x12.isa is %s)", name, u, p.ID, p.X12.ISA)
	}
	for _, pr := range res.Problems {
		r.fail("%v", pr)
	}
	for _, d := range res.Documents {
		if d.Head().Partner != p.ID && len(res.Unknown) == 0 {
			r.fail("%s: set %s was sent by partner %s, not %s", name, d.Head().Source.TransactionControl, d.Head().Partner, p.ID)
		}
	}
	var got bytes.Buffer
	for _, d := range res.Documents {
		b, _ := json.Marshal(d)
		got.Write(b)
		got.WriteByte('\n')
	}
	want := strings.TrimSuffix(name, filepath.Ext(name)) + ".jsonl"
	old, err := os.ReadFile(want)
	if update && (err != nil || !bytes.Equal(old, got.Bytes())) && len(res.Problems) == 0 {
		if err := os.WriteFile(want, got.Bytes(), 0o644); err != nil {
			r.fail("%s: %v", want, err)
			return
		}
		r.ok("%s: %d document(s) written to %s", filepath.Base(name), len(res.Documents), filepath.Base(want))
		return
	}
	if err != nil {
		r.fail("%s: no expected output %s (edigate partner check --update writes it; review it before committing)", filepath.Base(name), filepath.Base(want))
		return
	}
	diffs := diffLines(old, got.Bytes())
	if len(diffs) > 0 {
		for _, d := range diffs {
			r.fail("%s: %s", filepath.Base(name), d)
		}
		return
	}
	if len(res.Problems) == 0 {
		r.ok("%s: %d set(s), %d document(s) as expected", filepath.Base(name), res.Sets, len(res.Documents))
	}
}

func (t *Translator) checkOutbound(r *Report, p *partners.Partner, name string) {
	docs, err := ReadDocuments(name)
	if err != nil {
		r.fail("%v", err)
		return
	}
	out, err := t.Outbound(p.ID, docs...)
	if err != nil {
		r.fail("%s: %v", filepath.Base(name), err)
		return
	}
	back, err := t.Inbound(bytes.NewReader(out), Options{Partner: p.ID, File: filepath.Base(name) + " (written back)"})
	if err != nil || len(back.Problems) > 0 {
		r.fail("%s: the X12 we wrote does not translate back: %v %v", filepath.Base(name), err, back.Problems)
		return
	}
	if len(back.Documents) != len(docs) {
		r.fail("%s: %d document(s) written, %d read back", filepath.Base(name), len(docs), len(back.Documents))
		return
	}
	for i := range docs {
		for _, d := range diffDocs(docs[i], back.Documents[i]) {
			r.fail("%s: document %d does not survive the round trip: %s", filepath.Base(name), i+1, d)
		}
	}
	if !r.Failed {
		r.ok("%s: %d document(s) -> %d bytes of X12 that validate and translate back unchanged", filepath.Base(name), len(docs), len(out))
	}
}

// ReadDocuments reads canonical documents from a JSON file: one document,
// an array of documents, or JSON lines.
func ReadDocuments(name string) ([]canonical.Document, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseDocuments(name, data)
}

// ParseDocuments is ReadDocuments on bytes.
func ParseDocuments(name string, data []byte) ([]canonical.Document, error) {
	var raws []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("[")) {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for dec.More() {
			var m json.RawMessage
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", name, len(raws)+1, err)
			}
			raws = append(raws, m)
		}
	}
	var docs []canonical.Document
	for i, raw := range raws {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		doc, err := canonical.New(head.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(doc); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", name)
	}
	return docs, nil
}

// diffLines compares two JSON-lines outputs document by document.
func diffLines(want, got []byte) []string {
	w := bytes.Split(bytes.TrimSpace(want), []byte("\n"))
	g := bytes.Split(bytes.TrimSpace(got), []byte("\n"))
	var out []string
	for i := 0; i < len(w) || i < len(g); i++ {
		switch {
		case i >= len(w):
			out = append(out, fmt.Sprintf("document %d is not expected", i+1))
		case i >= len(g):
			out = append(out, fmt.Sprintf("document %d is missing", i+1))
		default:
			var a, b any
			json.Unmarshal(w[i], &a)
			json.Unmarshal(g[i], &b)
			for _, d := range diffValues(fmt.Sprintf("document %d", i+1), a, b) {
				out = append(out, d)
			}
		}
	}
	return out
}

// diffDocs compares two documents' business fields (not id, source or
// direction, which differ between the way out and the way back).
func diffDocs(a, b canonical.Document) []string {
	var x, y map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &x)
	json.Unmarshal(jb, &y)
	for _, k := range []string{"id", "source", "direction", "correlation_id", "partner"} {
		delete(x, k)
		delete(y, k)
	}
	prune(x, y)
	return diffValues("", x, y)
}

// prune drops from got what want does not have: fields the mapping filled
// in on the way (a default, our item's partner number) are not losses.
func prune(want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return
		}
		for k := range g {
			if _, keep := w[k]; !keep {
				delete(g, k)
				continue
			}
			prune(w[k], g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return
		}
		for i := range w {
			if i < len(g) {
				prune(w[i], g[i])
			}
		}
	}
}

func diffValues(path string, want, got any) []string {
	if reflect.DeepEqual(want, got) {
		return nil
	}
	wm, ok1 := want.(map[string]any)
	gm, ok2 := got.(map[string]any)
	if ok1 && ok2 {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			out = append(out, diffValues(join(path, k), wm[k], gm[k])...)
		}
		return out
	}
	wl, ok1 := want.([]any)
	gl, ok2 := got.([]any)
	if ok1 && ok2 && len(wl) == len(gl) {
		var out []string
		for i := range wl {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i+1), wl[i], gl[i])...)
		}
		return out
	}
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	return []string{fmt.Sprintf("%s: expected %s, got %s", path, w, g)}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
