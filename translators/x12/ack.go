package x12

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Allocator hands out outbound control numbers. Kind is "ISA", "GS" or
// "ST"; key says whose sequence it is (a partner id, or an interchange's
// sender). The store's allocator never reuses a number.
type Allocator interface {
	NextControl(key, kind string) (int64, error)
}

// CounterAllocator is an in-memory Allocator for tests and the command line.
type CounterAllocator struct {
	mu   sync.Mutex
	next map[string]int64
	// Start is the first number handed out for each kind (1 when zero).
	Start int64
}

// NextControl returns the next number of the sequence key/kind.
func (c *CounterAllocator) NextControl(key, kind string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[string]int64{}
	}
	k := key + "/" + kind
	n, ok := c.next[k]
	if !ok {
		n = max(c.Start, 1)
	}
	c.next[k] = n + 1
	return n, nil
}

// Ack is the acknowledgement of one inbound interchange: an interchange of
// our own holding a TA1 and/or one 997/999 per acknowledged group.
type Ack struct {
	Interchange string   // the inbound ISA13 it answers
	Control     string   // our ISA13
	Kinds       []string // what it holds: "TA1", "997", "999"
	Bytes       []byte
}

// Acknowledger builds 997/999/TA1 acknowledgements from a Validator's
// events. Hook it in with Events, then read Acks after Validate returns.
type Acknowledger struct {
	Alloc Allocator
	Now   func() time.Time
	// Force, when "997" or "999", overrides the choice by version (997 for
	// 004010 groups, 999 for 005010 groups): a partner setting.
	Force string
	// TA1 makes a TA1 part of every acknowledgement, as if ISA14 were 1.
	TA1 bool
	// Registry, when set, checks each acknowledgement before it is handed
	// out: a group too broken to be answered validly by a 997/999 gets a
	// TA1 (024, invalid interchange content) instead.
	Registry *Registry

	Acks []*Ack

	groups []*ackGroup
	err    error
}

type ackGroup struct {
	g    *GroupResult
	sets []*SetResult
}

// Events returns next with the acknowledger's hooks chained in.
func (a *Acknowledger) Events(next Events) Events {
	ev := next
	var cur *ackGroup
	ev.Set = func(s *SetResult) {
		if cur == nil {
			cur = &ackGroup{}
			a.groups = append(a.groups, cur)
		}
		kept := *s
		kept.Raw, kept.Owner, kept.Loops = nil, nil, nil // with ReuseSegments they are reused by the next set
		cur.sets = append(cur.sets, &kept)
		if next.Set != nil {
			next.Set(s)
		}
	}
	ev.Group = func(g *GroupResult) {
		if cur == nil {
			cur = &ackGroup{}
			a.groups = append(a.groups, cur)
		}
		cur.g = g
		cur = nil
		if next.Group != nil {
			next.Group(g)
		}
	}
	ev.Interchange = func(ix *InterchangeResult) {
		if a.err == nil {
			if ack, err := a.checked(ix, a.groups); err != nil {
				a.err = err
			} else if ack != nil {
				a.Acks = append(a.Acks, ack)
			}
		}
		a.groups, cur = nil, nil
		if next.Interchange != nil {
			next.Interchange(ix)
		}
	}
	return ev
}

// Err returns the first error met while building (from the allocator).
func (a *Acknowledger) Err() error { return a.err }

// ackKind chooses 997 or 999 for a group.
func (a *Acknowledger) ackKind(version string) string {
	if a.Force == "997" || a.Force == "999" {
		return a.Force
	}
	if strings.HasPrefix(version, "005") || version >= "005" {
		return "999"
	}
	return "997"
}

// checked builds the acknowledgement and, with a Registry, validates it.
// When it does not validate, the interchange gets a TA1 alone; when even
// that does not (the sender's delimiters cannot be written back), the TA1
// is written with the standard delimiters.
func (a *Acknowledger) checked(ix *InterchangeResult, groups []*ackGroup) (*Ack, error) {
	var ack *Ack
	var err error
	for _, mode := range []ackMode{ackFull, ackTA1Only, ackStandardDelims} {
		ack, err = a.build(ix, groups, mode)
		if err != nil || ack == nil || a.Registry == nil || a.valid(ack.Bytes) {
			return ack, err
		}
	}
	return ack, err
}

func (a *Acknowledger) valid(b []byte) bool {
	valid := true
	(&Validator{Registry: a.Registry}).Validate(bytes.NewReader(b), Events{Issue: func(e *ParseError) {
		if e.Severity == SeverityError {
			valid = false
		}
	}})
	return valid
}

type ackMode int

const (
	ackFull           ackMode = iota // 997/999 per group, TA1 where due
	ackTA1Only                       // the interchange is answered by a TA1 alone
	ackStandardDelims                // a TA1 alone, written with DefaultDelimiters
)

func (a *Acknowledger) build(ix *InterchangeResult, groups []*ackGroup, mode ackMode) (*Ack, error) {
	if ix.ISA[13] == "" && ix.Control == "" {
		return nil, nil // nothing to answer: not even an ISA could be read
	}
	wantTA1 := ix.AckRequested || a.TA1 || len(ix.Errors) > 0
	var acked []*ackGroup
	unanswerable := false
	for _, g := range groups {
		if g.g == nil || strings.TrimSpace(g.g.GS[1]) == "FA" {
			continue // functional acknowledgements are never acknowledged
		}
		gs := g.g.GS
		if mode != ackFull || strings.TrimSpace(gs[1]) == "" || strings.TrimSpace(gs[2]) == "" || strings.TrimSpace(gs[3]) == "" || g.g.Control == "" || !allDigits(g.g.Control) {
			// A group too broken to be named in an AK1/GS cannot get a
			// 997/999; the TA1 says the interchange content is invalid.
			unanswerable = true
			continue
		}
		acked = append(acked, g)
	}
	if unanswerable {
		wantTA1 = true
		if ix.NoteCode == "000" || ix.NoteCode == "" {
			ix.NoteCode = "024"
		}
	}
	if !wantTA1 && len(acked) == 0 {
		return nil, nil
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	t := now().UTC()
	d := ix.Delims
	if d.Segment == "" || mode == ackStandardDelims {
		d = DefaultDelimiters
	}
	sq, sid := ix.Sender()
	rq, rid := ix.Receiver()
	// An envelope too broken to name its parties still gets its TA1,
	// addressed as well as can be; the partner is known by its transport.
	fix := func(q, id string) (string, string) {
		if !isaQualifiers[q] {
			q = "ZZ"
		}
		if id = strings.TrimSpace(clean(id, d, 15)); id == "" || len(id) > 15 {
			id = "UNKNOWN"
		}
		return q, id
	}
	sq, sid = fix(sq, sid)
	rq, rid = fix(rq, rid)
	key := sq + ":" + sid
	isaCtl, err := a.Alloc.NextControl(key, "ISA")
	if err != nil {
		return nil, fmt.Errorf("allocating an ISA control number: %w", err)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, d)
	isa11 := "U"
	if d.Repetition != 0 {
		isa11 = string(d.Repetition)
	}
	version := trimPad(ix.ISA[12])
	if len(version) != 5 || !allDigits(version) {
		version = "00401"
	}
	usage := trimPad(ix.ISA[15])
	if usage != "T" && usage != "P" && usage != "I" {
		usage = "P"
	}
	ack := &Ack{Interchange: ix.Control, Control: fmt.Sprintf("%09d", isaCtl)}
	w.WriteSegment("ISA", "00", pad("", 10), "00", pad("", 10),
		pad(rq, 2), pad(rid, 15), pad(sq, 2), pad(sid, 15),
		t.Format("060102"), t.Format("1504"), isa11, version, ack.Control, "0", usage, string(d.Component))
	if wantTA1 {
		code, status := "000", "A"
		if len(ix.Errors) > 0 || unanswerable {
			code, status = ix.NoteCode, "R"
			if code == "000" || code == "" {
				code = "024"
			}
		}
		date, tm := trimPad(ix.ISA[9]), trimPad(ix.ISA[10])
		if len(date) != 6 || !validDate([]byte(date)) {
			date = t.Format("060102")
		}
		if len(tm) != 4 || !validTime([]byte(tm)) {
			tm = t.Format("1504")
		}
		ctl := ix.Control
		if len(ctl) != 9 || !allDigits(ctl) {
			ctl = "000000000"
		}
		w.WriteSegment("TA1", ctl, date, tm, status, code)
		ack.Kinds = append(ack.Kinds, "TA1")
	}
	for _, g := range acked {
		kind := a.ackKind(g.g.Version)
		gsCtl, err := a.Alloc.NextControl(key, "GS")
		if err != nil {
			return nil, fmt.Errorf("allocating a GS control number: %w", err)
		}
		stCtl, err := a.Alloc.NextControl(key, "ST")
		if err != nil {
			return nil, fmt.Errorf("allocating an ST control number: %w", err)
		}
		gsVersion := g.g.Version
		if kind == "999" {
			gsVersion = "005010X231A1"
		} else if len(gsVersion) > 6 && kind == "997" {
			gsVersion = gsVersion[:6]
		}
		if gsVersion == "" {
			gsVersion = "004010"
		}
		gsc := strconv.FormatInt(gsCtl, 10)
		w.WriteSegment("GS", "FA", clean(trimPad(g.g.GS[3]), d, 15), clean(trimPad(g.g.GS[2]), d, 15), t.Format("20060102"), t.Format("1504"), gsc, "X", gsVersion)
		writeFunctionalAck(w, kind, fmt.Sprintf("%04d", stCtl), g, gsVersion)
		w.WriteSegment("GE", "1", gsc)
		ack.Kinds = appendCode(ack.Kinds, kind)
	}
	w.WriteSegment("IEA", strconv.Itoa(len(acked)), ack.Control)
	if err := w.Flush(); err != nil {
		return nil, err
	}
	ack.Bytes = buf.Bytes()
	return ack, nil
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}

// writeFunctionalAck writes one 997 or 999 set for group g and returns its
// segment count.
func writeFunctionalAck(w *Writer, kind, stCtl string, g *ackGroup, gsVersion string) int {
	count := 0
	seg := func(id string, els ...string) {
		w.WriteSegment(id, els...)
		count++
	}
	is999 := kind == "999"
	if is999 {
		seg("ST", "999", stCtl, "005010X231A1")
	} else {
		seg("ST", "997", stCtl)
	}
	d := w.Delimiters()
	gid, gctl := clean(trimPad(g.g.GS[1]), d, 2), clean(g.g.Control, d, 9)
	if is999 || strings.HasPrefix(gsVersion, "005") {
		seg("AK1", gid, gctl, clean(g.g.Version, d, 12))
	} else {
		seg("AK1", gid, gctl)
	}
	for _, s := range g.sets {
		id, ctl := clean(s.ID, d, 3), clean(s.Control, d, 9)
		if is999 {
			seg("AK2", id, ctl, clean(s.ImplRef, d, 35))
		} else {
			seg("AK2", id, ctl)
		}
		for _, se := range groupBySegment(s.Errors) {
			e0 := se[0]
			segCode := e0.Code
			if e0.Level == LevelElement {
				segCode = "8"
			}
			segID := e0.SegmentID
			if !validSegmentID([]byte(segID)) {
				segID = "ZZZ"
			}
			if is999 {
				seg("IK3", segID, strconv.Itoa(e0.Segment), e0.LoopID, segCode)
			} else {
				seg("AK3", segID, strconv.Itoa(e0.Segment), e0.LoopID, segCode)
			}
			for _, e := range se {
				if e.Level != LevelElement || e.Element == 0 {
					continue
				}
				parts := []string{strconv.Itoa(e.Element)}
				if e.Component > 0 || (is999 && e.Repetition > 1) {
					parts = append(parts, optInt(e.Component))
				}
				if is999 && e.Repetition > 1 {
					parts = append(parts, strconv.Itoa(e.Repetition))
				}
				pos := w.Composite(parts...)
				code := e.Code
				if !is999 && (code == "12" || code == "13") && strings.HasPrefix(gsVersion, "004010") {
					code = "6"
				}
				if is999 {
					seg("IK4", pos, e.ElementRef, code, badValue(e.Value, d))
				} else {
					seg("AK4", pos, e.ElementRef, code, badValue(e.Value, d))
				}
			}
		}
		codes := append([]string{s.Status}, limitCodes(s.Codes)...)
		if is999 {
			seg("IK5", codes...)
		} else {
			seg("AK5", codes...)
		}
	}
	included := g.g.Included
	if included < 0 {
		included = g.g.Received
	}
	status := g.g.Status
	if status == "" {
		status = "R"
	}
	ak9 := append([]string{status, strconv.Itoa(included), strconv.Itoa(g.g.Received), strconv.Itoa(g.g.Accepted)}, limitCodes(g.g.Codes)...)
	seg("AK9", ak9...)
	count++
	w.WriteSegment("SE", strconv.Itoa(count), stCtl)
	return count
}

func optInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func limitCodes(c []string) []string {
	if len(c) > 5 {
		return c[:5]
	}
	return c
}

// badValue prepares a copy of bad data for AK404/IK404: at most 99
// characters, without any of the delimiters.
func badValue(v string, d Delimiters) string { return clean(v, d, 99) }

// clean makes a value received from a partner safe to echo in our
// acknowledgement: no delimiters, no control characters, nothing outside
// ASCII (a fixed-width ISA field counts characters), at most max bytes.
func clean(v string, d Delimiters, max int) string {
	var b strings.Builder
	for i := 0; i < len(v) && b.Len() < max; i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == d.Element || c == d.Component || (d.Repetition != 0 && c == d.Repetition) || strings.IndexByte(d.Segment, c) >= 0 {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// groupBySegment groups a set's segment- and element-level errors by
// segment ordinal, in order.
func groupBySegment(errs []*ParseError) [][]*ParseError {
	var order []int
	by := map[int][]*ParseError{}
	for _, e := range errs {
		if e.Level < LevelSegment || e.Segment == 0 {
			continue
		}
		k := e.Segment*4 + segmentKeyOffset(e)
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], e)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] < order[j] })
	out := make([][]*ParseError, 0, len(order))
	for _, k := range order {
		out = append(out, by[k])
	}
	return out
}

// segmentKeyOffset keeps a missing-segment report apart from errors about the
// segment at which the absence was noticed.
func segmentKeyOffset(e *ParseError) int {
	if e.Level == LevelSegment && e.Code == "3" {
		return 0
	}
	return 1
}

// FunctionalAck is an inbound 997 or 999: which of our sets the partner
// accepted or rejected.
type FunctionalAck struct {
	Kind         string // 997 or 999
	GroupID      string // AK101
	GroupControl string // AK102
	Status       string // AK901
	Included     int    // AK902
	Received     int    // AK903
	Accepted     int    // AK904
	Sets         []AckedSet
}

// AckedSet is one AK2 loop.
type AckedSet struct {
	ID      string // AK201
	Control string // AK202
	Status  string // AK501 / IK501
	Codes   []string
	Errors  []AckedError
}

// AckedError is one AK3/IK3 with its AK4/IK4 codes.
type AckedError struct {
	SegmentID string
	Position  int
	Code      string
	Elements  []string // "position:code" of each AK4/IK4
}

// Accepted reports whether the set was accepted (with or without errors).
func (s AckedSet) Accepted() bool { return s.Status == "A" || s.Status == "E" }

// ParseFunctionalAck reads a 997 or 999 set kept by a Validator (KeepSegments).
func ParseFunctionalAck(s *SetResult) (*FunctionalAck, error) {
	if s.ID != "997" && s.ID != "999" {
		return nil, fmt.Errorf("set %s is a %s, not a 997 or 999", s.Control, s.ID)
	}
	fa := &FunctionalAck{Kind: s.ID}
	el := func(seg *Segment, i int) string { return string(seg.Element(i)) }
	var cur *AckedSet
	for _, seg := range s.Raw {
		switch string(seg.ID()) {
		case "AK1":
			fa.GroupID, fa.GroupControl = el(seg, 1), el(seg, 2)
		case "AK2":
			fa.Sets = append(fa.Sets, AckedSet{ID: el(seg, 1), Control: el(seg, 2)})
			cur = &fa.Sets[len(fa.Sets)-1]
		case "AK3", "IK3":
			if cur != nil {
				p, _ := strconv.Atoi(el(seg, 2))
				cur.Errors = append(cur.Errors, AckedError{SegmentID: el(seg, 1), Position: p, Code: el(seg, 4)})
			}
		case "AK4", "IK4":
			if cur != nil && len(cur.Errors) > 0 {
				e := &cur.Errors[len(cur.Errors)-1]
				e.Elements = append(e.Elements, el(seg, 1)+"="+el(seg, 3))
			}
		case "AK5", "IK5":
			if cur != nil {
				cur.Status = el(seg, 1)
				for i := 2; i < len(seg.Elements); i++ {
					if v := el(seg, i); v != "" {
						cur.Codes = append(cur.Codes, v)
					}
				}
			}
		case "AK9":
			fa.Status = el(seg, 1)
			fa.Included, _ = strconv.Atoi(el(seg, 2))
			fa.Received, _ = strconv.Atoi(el(seg, 3))
			fa.Accepted, _ = strconv.Atoi(el(seg, 4))
		}
	}
	if fa.GroupControl == "" || fa.Status == "" {
		return fa, fmt.Errorf("%s %s has no AK1 or AK9", s.ID, s.Control)
	}
	return fa, nil
}

// TA1Result is an inbound interchange acknowledgement.
type TA1Result struct {
	Control  string // TA101: the interchange it answers
	Status   string // TA104: A, E or R
	NoteCode string // TA105
}

// ParseTA1 reads a TA1 segment.
func ParseTA1(seg *Segment) TA1Result {
	return TA1Result{Control: string(seg.Element(1)), Status: string(seg.Element(4)), NoteCode: string(seg.Element(5))}
}
