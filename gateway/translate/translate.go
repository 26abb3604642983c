// Package translate ties the X12 engine, the partners and their mappings
// together: an inbound file becomes canonical documents, a canonical
// document becomes an X12 interchange for a partner.
package translate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
)

// SetOf maps a canonical kind to its transaction set, and back.
var SetOf = map[string]string{
	canonical.KindPurchaseOrder:     "850",
	canonical.KindPOAcknowledgement: "855",
	canonical.KindShipNotice:        "856",
	canonical.KindInvoice:           "810",
}

// Translator translates files for the partners of a Directory.
type Translator struct {
	Registry *x12.Registry
	Partners *partners.Directory // may be empty
	Library  *mappings.Library
	// Us is our own interchange identity ("ZZ:EDIGATE") and GS code.
	UsQual, UsID, UsGS string
	Alloc              x12.Allocator
	Now                func() time.Time

	mu    sync.Mutex
	specs map[string]*mapping.Spec
}

// Identity parses "QUAL:ID".
func Identity(s string) (qual, id string, err error) {
	q, i, ok := bytes.Cut([]byte(s), []byte(":"))
	if !ok || len(q) != 2 || len(i) == 0 || len(i) > 15 {
		return "", "", fmt.Errorf("interchange id %q is not QUALIFIER:ID such as ZZ:EDIGATE", s)
	}
	return string(q), string(i), nil
}

// Spec returns the compiled mapping for a partner (nil: defaults) and a set.
func (t *Translator) Spec(p *partners.Partner, set, version string) (*mapping.Spec, error) {
	name := mappings.DefaultName(set, version)
	if p != nil {
		if f, ok := p.Mappings[set]; ok {
			name = f
		} else if own := p.ID + "/" + set + "-" + baseVersion(version) + ".yaml"; t.Library.Exists(own) {
			name = own
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if sp, ok := t.specs[name]; ok {
		return sp, nil
	}
	sp, err := t.Library.Load(name)
	if err != nil {
		return nil, err
	}
	if sp.Set != set {
		return nil, fmt.Errorf("mapping %s is for set %s, not %s", name, sp.Set, set)
	}
	if t.specs == nil {
		t.specs = map[string]*mapping.Spec{}
	}
	t.specs[name] = sp
	return sp, nil
}

func baseVersion(v string) string {
	if len(v) > 6 {
		return v[:6]
	}
	return v
}

// Result is what one inbound file gave.
type Result struct {
	Documents []canonical.Document
	// Acks are the 997/999s the file held: which of our sets the partner
	// accepted or rejected.
	Acks []*x12.FunctionalAck
	// Problems are validation errors and mapping errors, positioned.
	Problems []error
	Warnings []*x12.ParseError
	// Unknown lists interchange senders no partner file knows; their sets
	// were translated with the default mappings.
	Unknown []string
	Sets    int
	// Refused counts sets not translated because their sender is not the
	// partner that uploaded them (Options.Sender).
	Refused int
	// Interchanges lists the ISA13 of every interchange read.
	Interchanges []string
}

// Options for Inbound.
type Options struct {
	Partner       string // translate as this partner, whoever the sender is
	File          string // shown in errors
	CorrelationID string
	// Ack, when set, builds the acknowledgements of the file in the same pass.
	Ack *x12.Acknowledger
	// Sender, when set, is the partner that authenticated the upload: sets
	// whose ISA sender is another partner (or nobody known) are refused.
	Sender string
	// Document, when set, receives each document as soon as it is made,
	// and Result.Documents stays empty: memory then does not grow with the
	// number of documents in the file. It is called on Inbound's
	// goroutine, in the order of the sets.
	Document func(canonical.Document)
	// Sequential maps each set on Inbound's goroutine right after its
	// validation. By default, when the program may use more than one CPU,
	// the input is read on a goroutine of its own and sets are mapped, in
	// groups, on two more while the next ones are validated. The result is
	// the same either way.
	Sequential bool
}

// Inbound validates and translates every set in r. Invalid sets are not
// translated; their errors are in the result. Only an I/O error is returned.
func (t *Translator) Inbound(r io.Reader, opt Options) (*Result, error) {
	res := &Result{}
	var forced *partners.Partner
	if opt.Partner != "" {
		p, ok := t.partner(opt.Partner)
		if !ok {
			return nil, fmt.Errorf("%w: no partner %q", partners.ErrUnknownPartner, opt.Partner)
		}
		forced = p
	}
	unknown := map[senderKey]bool{}
	senders := senderCache{}
	// issuer names, for a validation error, the partner whose interchange
	// it is in: the forced one, else the one its ISA sender is.
	issuer := func(e *x12.ParseError) string {
		switch {
		case forced != nil:
			return "partner " + forced.ID
		case e.Sender == "":
			return ""
		}
		qual, id, _ := strings.Cut(e.Sender, ":")
		if t.Partners != nil {
			if p := senders.find(t.Partners, senderKey{qual: qual, id: id}); p != nil {
				return "partner " + p.ID
			}
		}
		return "sender " + e.Sender + " (no partner)"
	}
	// The mapping of each partner, set and version met, looked up once:
	// Spec takes a lock and builds the mapping's name.
	specs := map[specKey]*mapping.Spec{}
	// Problems in input order: a mapping's errors take the place of its
	// set, although with overlap they are known only later. order holds
	// them from the oldest mapping not yet finished on; what comes before
	// is in res.Problems.
	var order []problem
	settle := func() {
		n := 0
		for ; n < len(order); n++ {
			p := order[n]
			switch {
			case p.job == nil:
				res.Problems = append(res.Problems, p.err)
			case !p.job.finished:
				order = append(order[:0], order[n:]...)
				return
			case p.job.err != nil:
				var es mapping.Errors
				if errors.As(p.job.err, &es) {
					for _, e := range es {
						res.Problems = append(res.Problems, e)
					}
				} else {
					res.Problems = append(res.Problems, p.job.err)
				}
			}
		}
		order = order[:0]
	}
	fail := func(err error) {
		order = append(order, problem{err: err})
		if len(order) == 1 {
			settle()
		}
	}
	// failSet records a problem with set s, which it names with its
	// position and the partner it was taken for.
	failSet := func(s *x12.SetResult, partner, format string, args ...any) {
		fail(fmt.Errorf("%s:%d: partner %s: ISA %s / GS %s / ST %s: %w", opt.File, s.Offset, partner, s.Interchange, s.Group, s.Control, fmt.Errorf(format, args...)))
	}
	// done takes in a finished mapping: its document goes out in set order,
	// and the set and the document are no longer held here.
	done := func(j *mapJob) {
		j.finished = true
		if j.err == nil {
			if opt.Document != nil {
				opt.Document(j.doc)
			} else {
				res.Documents = append(res.Documents, j.doc)
			}
		}
		j.in, j.doc = mapping.Input{}, nil
		settle()
	}
	m := newMapper(!opt.Sequential && runtime.GOMAXPROCS(0) > 1, done)
	defer m.stop()
	v := &x12.Validator{Registry: t.Registry, KeepSegments: true, ReuseSegments: true, Pipelined: m.overlap}
	if m.overlap {
		v.Released = m.released
	}
	ev := x12.Events{
		Issue: func(e *x12.ParseError) {
			if e.Severity == x12.SeverityWarning {
				res.Warnings = append(res.Warnings, e)
				return
			}
			fail(positioned{file: opt.File, partner: issuer(e), err: e})
		},
		Set: func(s *x12.SetResult) {
			defer m.called()
			res.Sets++
			if !s.Valid() {
				return
			}
			p := forced
			if p == nil && t.Partners != nil {
				p = senders.find(t.Partners, senderKey{s.SenderQual, s.SenderID, s.GroupSender})
			}
			if p == nil && forced == nil {
				if key := (senderKey{qual: s.SenderQual, id: s.SenderID}); !unknown[key] {
					unknown[key] = true
					res.Unknown = append(res.Unknown, s.SenderQual+":"+s.SenderID)
				}
			}
			if opt.Sender != "" && (p == nil || p.ID != opt.Sender) {
				failSet(s, opt.Sender, "the interchange sender %s:%s is not this partner's x12.isa; the set is refused", s.SenderQual, s.SenderID)
				res.Refused++
				return
			}
			partnerID := ""
			if p != nil {
				partnerID = p.ID
			}
			switch {
			case s.EnvelopeErrors > 0:
				failSet(s, partnerID, "the set is not translated: its interchange or group envelope has errors (above), so it is rejected and will be sent again")
				return
			case !s.HasSchema:
				failSet(s, partnerID, "the set is not translated: there is no schema for %s %q, so it could not be validated", s.ID, s.Version)
				return
			}
			if s.ID == "997" || s.ID == "999" {
				fa, err := x12.ParseFunctionalAck(s)
				if err != nil {
					failSet(s, partnerID, "%w", err)
					return
				}
				res.Acks = append(res.Acks, fa)
				return
			}
			sk := specKey{partner: p, set: s.ID, version: s.Version}
			sp := specs[sk]
			if sp == nil {
				var err error
				if sp, err = t.Spec(p, s.ID, s.Version); err != nil {
					failSet(s, partnerID, "no mapping for %s %s: %w", s.ID, s.Version, err)
					return
				}
				specs[sk] = sp
			}
			j := &mapJob{spec: sp, in: mapping.Input{Set: s, Partner: partnerID, CorrelationID: opt.CorrelationID, File: opt.File}}
			order = append(order, problem{job: j})
			m.start(j)
		},
		Interchange: func(ix *x12.InterchangeResult) {
			if ix.Control != "" {
				res.Interchanges = append(res.Interchanges, ix.Control)
			}
		},
	}
	if opt.Ack != nil {
		ev = opt.Ack.Events(ev)
	}
	err := v.Validate(r, ev)
	m.end()
	settle()
	return res, err
}

// problem is one entry of Inbound's problems: an error, or the mapping of
// a set, whose errors (if any) go there.
type problem struct {
	err error
	job *mapJob
}

// mapJob is the mapping of one set.
type mapJob struct {
	spec     *mapping.Spec
	in       mapping.Input
	doc      canonical.Document
	err      error
	finished bool // handed to Inbound's done
	panic    any  // the mapping panicked with this (and stack)
	stack    []byte
}

func (j *mapJob) run() {
	defer func() {
		if p := recover(); p != nil {
			j.panic, j.stack = p, debug.Stack()
		}
	}()
	j.doc, j.err = j.spec.Translate(j.in)
}

// With overlap, sets go to mapping goroutines in groups: one handover per
// set would cost more in waking goroutines than mapping a small set. A
// group closes after groupSets Set callbacks (mapped or not), or sooner
// once it holds groupSegments segments. mapWorkers groups are mapped at
// once; when one more closes, the oldest is waited for. The validator
// keeps the segments of every set from the oldest not yet mapped on
// (Validator.Released): so about mapWorkers+1 groups.
const (
	groupSets     = 16
	groupSegments = 32 << 10
	mapWorkers    = 2
)

// mapGroup is a group of sets handed over for mapping; done closes when
// all are mapped.
type mapGroup struct {
	jobs []*mapJob
	done chan struct{}
}

// mapper maps sets, on the caller's goroutine or, with overlap, on
// mapWorkers of their own, a group at a time, while the caller validates
// the next; results are taken in set order.
type mapper struct {
	overlap bool
	finish  func(*mapJob) // takes each job mapped, in set order
	groups  chan *mapGroup
	group   []*mapJob   // started, not yet handed over
	calls   int         // Set callbacks since the group began
	segs    int         // segments in the group
	flight  []*mapGroup // handed over, not yet waited for, oldest first
}

func newMapper(overlap bool, finish func(*mapJob)) *mapper {
	m := &mapper{overlap: overlap, finish: finish}
	if overlap {
		m.groups = make(chan *mapGroup)
		for range mapWorkers {
			go func() {
				for g := range m.groups {
					for _, j := range g.jobs {
						j.run()
					}
					close(g.done)
				}
			}()
		}
	}
	return m
}

// released tells the validator how many sets it may reuse the memory of
// (Validator.Released): those before the oldest set not yet mapped.
func (m *mapper) released() int {
	for _, g := range m.flight {
		select {
		case <-g.done:
		default:
			return g.jobs[0].in.Set.Seq - 1
		}
	}
	if len(m.group) > 0 {
		return m.group[0].in.Set.Seq - 1
	}
	return math.MaxInt
}

// start maps j, then hands it to finish: at once, or with overlap, once
// its group is mapped, in set order.
func (m *mapper) start(j *mapJob) {
	if !m.overlap {
		j.run()
		m.finished(j)
		return
	}
	m.group = append(m.group, j)
	m.segs += len(j.in.Set.Raw)
}

// called counts a Set callback; it closes the group when full.
func (m *mapper) called() {
	if !m.overlap {
		return
	}
	if m.calls++; m.calls >= groupSets || m.segs >= groupSegments {
		m.flush()
	}
}

// flush hands the current group over, first waiting for the oldest one
// when mapWorkers are busy.
func (m *mapper) flush() {
	m.calls, m.segs = 0, 0
	if len(m.group) == 0 {
		return
	}
	if len(m.flight) == mapWorkers {
		m.waitOldest()
	}
	g := &mapGroup{jobs: m.group, done: make(chan struct{})}
	m.group = nil
	m.groups <- g
	m.flight = append(m.flight, g)
}

// waitOldest waits for the oldest group handed over and hands its jobs to
// finish.
func (m *mapper) waitOldest() {
	g := m.flight[0]
	m.flight = m.flight[1:]
	<-g.done
	for _, j := range g.jobs {
		m.finished(j)
	}
}

// end maps what is left, at the end of the input.
func (m *mapper) end() {
	if m.overlap {
		m.flush()
		for len(m.flight) > 0 {
			m.waitOldest()
		}
	}
}

// finished hands j to finish, or panics on the caller's goroutine when
// mapping it did.
func (m *mapper) finished(j *mapJob) {
	if j.panic != nil {
		s := j.in.Set
		panic(fmt.Sprintf("%s:%d: partner %s: ISA %s / GS %s / ST %s: mapping panicked: %v\n%s", j.in.File, s.Offset, j.in.Partner, s.Interchange, s.Group, s.Control, j.panic, j.stack))
	}
	m.finish(j)
}

// stop ends the mapping goroutines. Groups still being mapped (when
// Inbound panicked) are waited for: they read memory the validator owns.
func (m *mapper) stop() {
	if !m.overlap {
		return
	}
	for _, g := range m.flight {
		<-g.done
	}
	close(m.groups)
}

// senderCache remembers which partner (or none) each sender of a file is:
// a file holds many sets from few senders, and a sender that is no partner
// costs an error message for every lookup.
type senderCache map[senderKey]*partners.Partner

type senderKey struct{ qual, id, gs string }

type specKey struct {
	partner      *partners.Partner
	set, version string
}

// find returns the partner that k is (ISA05, ISA06 and, if known, GS02),
// or nil.
func (c senderCache) find(d *partners.Directory, k senderKey) *partners.Partner {
	p, ok := c[k]
	if !ok {
		p, _ = d.FindSender(k.qual, k.id, k.gs)
		c[k] = p
	}
	return p
}

func (t *Translator) partner(id string) (*partners.Partner, bool) {
	if t.Partners == nil {
		return nil, false
	}
	return t.Partners.ByID(id)
}

// positioned prefixes a validation error with its file and, when known,
// the partner (or the unknown sender) whose interchange it is in.
type positioned struct {
	file    string
	partner string // "partner ID", "sender QUAL:ID (no partner)" or ""
	err     *x12.ParseError
}

func (p positioned) Error() string {
	e := p.err
	s := fmt.Sprintf("%s:%d: ", p.file, e.Offset)
	if p.partner != "" {
		s += p.partner + ": "
	}
	if pos := e.Position(); pos != "" {
		s += pos + ": "
	}
	s += e.Message
	if e.Code != "" {
		s += fmt.Sprintf(" [%s %s]", e.Level, e.Code)
	}
	return s
}

func (p positioned) Unwrap() error { return p.err }

// Outbound writes canonical documents as one X12 interchange to a partner,
// with the partner's version, delimiters and identities, and checks it with
// our own validator before returning it.
func (t *Translator) Outbound(partnerID string, docs ...canonical.Document) ([]byte, error) {
	w, err := t.Write(partnerID, docs...)
	if w == nil {
		return nil, err
	}
	return w.Bytes, err
}

// Written is an interchange Outbound wrote, with the control numbers it
// allocated, as they stand in ISA13, GS06 and each ST02.
type Written struct {
	Bytes        []byte
	Interchange  string
	Group        string
	Transactions []string
}

// Write is Outbound, telling also the control numbers it allocated. On a
// validation error it returns what it wrote as well as the error.
func (t *Translator) Write(partnerID string, docs ...canonical.Document) (*Written, error) {
	p, ok := t.partner(partnerID)
	if !ok {
		return nil, fmt.Errorf("%w: no partner %q", partners.ErrUnknownPartner, partnerID)
	}
	if len(docs) == 0 {
		return nil, errors.New("no documents to write")
	}
	kind := docs[0].Head().Kind
	set, ok := SetOf[kind]
	if !ok {
		return nil, fmt.Errorf("unknown document kind %q", kind)
	}
	sp, err := t.Spec(p, set, p.X12.Version)
	if err != nil {
		return nil, err
	}
	d, err := p.OutboundDelimiters()
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", p.ID, err)
	}
	key := p.ID
	isa, err := t.Alloc.NextControl(key, "ISA")
	if err != nil {
		return nil, err
	}
	gs, err := t.Alloc.NextControl(key, "GS")
	if err != nil {
		return nil, err
	}
	var sets [][][]string
	var stCtls []string
	for _, doc := range docs {
		if doc.Head().Kind != kind {
			return nil, fmt.Errorf("one interchange holds one kind of document: %s and %s", kind, doc.Head().Kind)
		}
		st, err := t.Alloc.NextControl(key, "ST")
		if err != nil {
			return nil, err
		}
		stCtl := fmt.Sprintf("%04d", st)
		stCtls = append(stCtls, stCtl)
		segs, err := sp.Emit(doc, stCtl, d)
		var errs mapping.Errors
		switch {
		case errors.As(err, &errs) && doc.Head().Partner == p.ID:
			return nil, err // each names the partner
		case err != nil:
			return nil, fmt.Errorf("partner %s: %w", p.ID, err)
		}
		sets = append(sets, segs)
	}
	pq, pid, _ := p.ISA()
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	schema, _ := t.Registry.Lookup(set, p.X12.Version)
	env := x12.Envelope{
		SenderQual: t.UsQual, SenderID: t.UsID, ReceiverQual: pq, ReceiverID: pid,
		GSSender: t.UsGS, GSReceiver: p.GSCode(), FunctionalID: schema.Group, Version: p.X12.Version,
		Control: isa, GroupControl: gs, Test: p.X12.Test, Time: now(), Delimiters: d,
	}
	var buf bytes.Buffer
	if err := x12.WriteInterchange(&buf, env, sets); err != nil {
		return nil, err
	}
	var problems []error
	(&x12.Validator{Registry: t.Registry}).Validate(bytes.NewReader(buf.Bytes()), x12.Events{Issue: func(e *x12.ParseError) {
		if e.Severity == x12.SeverityError {
			problems = append(problems, positioned{file: "outbound " + set + " for " + p.ID, err: e})
		}
	}})
	w := &Written{Bytes: buf.Bytes(), Interchange: fmt.Sprintf("%09d", isa), Group: strconv.FormatInt(gs, 10), Transactions: stCtls}
	if len(problems) > 0 {
		return w, fmt.Errorf("the %s written for partner %s does not validate: %w", set, p.ID, errors.Join(problems...))
	}
	return w, nil
}
