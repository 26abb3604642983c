// Package x12gen generates large, realistic and valid X12 interchanges for
// benchmarks and tests. Output is deterministic for a given Options value and
// size, and is streamed in constant memory, so a 1 GB interchange can be
// written into a pipe.
package x12gen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/edigate/edigate/translators/x12"
)

// Options says what to generate. The zero value generates 850s in 004010 with
// x12.DefaultDelimiters.
type Options struct {
	Set        string         // "850" (default), "855", "856" or "810"
	Version    string         // "004010" (default) or "005010"
	Delimiters x12.Delimiters // zero value: x12.DefaultDelimiters
	Seed       int64
	// SetsPerGroup is the number of transaction sets per functional group
	// (default 100); an interchange holds as many groups as its size needs.
	SetsPerGroup int
	// LinesPerSet is the number of line items per set (PO1, IT1, or items
	// shipped in an 856; default 40). The last set is shortened to fit the
	// requested size.
	LinesPerSet int
	// Sender and Receiver are the interchange and group identities (at most
	// 15 characters). By default the buyer sends the 850 and the supplier
	// the 855, 856 and 810.
	Sender, Receiver string
}

// dataAlphabet lists the bytes that generated values use besides letters and
// digits; none of them may be a delimiter.
const dataAlphabet = " .-"

func (o Options) normalize() (Options, error) {
	if o.Set == "" {
		o.Set = "850"
	}
	if o.Version == "" {
		o.Version = "004010"
	}
	if o.Delimiters == (x12.Delimiters{}) {
		o.Delimiters = x12.DefaultDelimiters
	}
	if o.SetsPerGroup <= 0 {
		o.SetsPerGroup = 100
	}
	if o.LinesPerSet <= 0 {
		o.LinesPerSet = 40
	}
	buyer, supplier := "ACMERETAIL", "WIDGETWORKS"
	if o.Set == "850" {
		buyer, supplier = supplier, buyer
	}
	if o.Sender == "" {
		o.Sender = supplier
	}
	if o.Receiver == "" {
		o.Receiver = buyer
	}
	switch o.Set {
	case "850", "855", "856", "810":
	default:
		return o, fmt.Errorf("x12gen: set %q is not 850, 855, 856 or 810", o.Set)
	}
	switch o.Version {
	case "004010", "005010":
	default:
		return o, fmt.Errorf("x12gen: version %q is not 004010 or 005010", o.Version)
	}
	d := o.Delimiters
	if d.Segment == "" {
		return o, errors.New("x12gen: no segment terminator")
	}
	if o.Version >= "005010" && d.Repetition == 0 {
		return o, errors.New("x12gen: 005010 needs a repetition separator (Delimiters.Repetition)")
	}
	check := func(what string, c byte) error {
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || bytes.IndexByte([]byte(dataAlphabet), c) >= 0 {
			return fmt.Errorf("x12gen: the %s %q would occur in generated data", what, c)
		}
		return nil
	}
	for _, c := range []struct {
		what string
		c    byte
	}{{"element separator", d.Element}, {"component separator", d.Component}, {"segment terminator", d.Segment[0]}} {
		if err := check(c.what, c.c); err != nil {
			return o, err
		}
	}
	if d.Repetition != 0 && o.Version >= "005010" {
		if err := check("repetition separator", d.Repetition); err != nil {
			return o, err
		}
	}
	if d.Element == d.Component || d.Element == d.Segment[0] || d.Component == d.Segment[0] ||
		d.Repetition != 0 && (d.Repetition == d.Element || d.Repetition == d.Component || d.Repetition == d.Segment[0]) {
		return o, fmt.Errorf("x12gen: delimiters are not distinct: %v", d)
	}
	for _, id := range []string{o.Sender, o.Receiver} {
		if len(id) < 2 || len(id) > 15 {
			return o, fmt.Errorf("x12gen: sender and receiver IDs must be 2 to 15 characters, not %q", id)
		}
		if bytes.ContainsAny([]byte(id), string([]byte{d.Element, d.Component, d.Segment[0]})) ||
			d.Repetition != 0 && bytes.IndexByte([]byte(id), d.Repetition) >= 0 {
			return o, fmt.Errorf("x12gen: ID %q holds a delimiter", id)
		}
	}
	return o, nil
}

// Bytes returns an interchange of about size bytes. It panics when opt is
// invalid; it is meant for tests and benchmarks.
func Bytes(opt Options, size int64) []byte {
	var b bytes.Buffer
	b.Grow(int(size + size/16 + 4096))
	if _, err := Write(&b, opt, size); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Write writes one interchange (ISA..IEA) of about size bytes to w and
// returns the number of bytes written. It holds at least one transaction set
// whatever the size. Memory use does not depend on size.
func Write(w io.Writer, opt Options, size int64) (int64, error) {
	opt, err := opt.normalize()
	if err != nil {
		return 0, err
	}
	g := newGen(w, opt)
	g.isa()
	const reserve = 40 // GE and IEA
	groups, sets := 0, 0
	done := false
	for !done {
		if sets > 0 && size-g.e.written()-reserve-60 < g.fixed+g.perLine/2 {
			break // no room for another group
		}
		groups++
		g.gs(groups)
		inGroup := 0
		for inGroup < opt.SetsPerGroup {
			if g.e.err != nil {
				return g.e.flushed, g.e.err
			}
			lines := opt.LinesPerSet
			rem := size - g.e.written() - reserve
			if rem < g.fullSet() {
				done = true
				lines = g.fit(rem)
				if lines <= 0 {
					if sets > 0 {
						break
					}
					lines = 1
				}
			}
			sets++
			inGroup++
			g.set(sets, lines)
			if done {
				break
			}
		}
		if inGroup == 0 { // a group is never empty
			sets++
			inGroup++
			g.set(sets, 1)
		}
		g.ge(inGroup, groups)
	}
	g.iea(groups)
	err = g.e.flush()
	return g.e.written(), err
}

// ---- encoder ----

// encoder appends segments to a buffer that it flushes to w in large writes.
type encoder struct {
	w       io.Writer
	buf     []byte
	flushed int64
	err     error
	d       x12.Delimiters
	segs    int // segments begun (for SE01)
}

const flushAt = 64 << 10

func (e *encoder) written() int64 { return e.flushed + int64(len(e.buf)) }

func (e *encoder) flush() error {
	if e.err == nil && len(e.buf) > 0 {
		var n int
		n, e.err = e.w.Write(e.buf)
		e.flushed += int64(n)
	}
	e.buf = e.buf[:0]
	return e.err
}

func (e *encoder) seg(id string) {
	e.segs++
	e.buf = append(e.buf, id...)
}

func (e *encoder) end() {
	e.buf = append(e.buf, e.d.Segment...)
	e.buf = append(e.buf, e.d.Suffix...)
	if len(e.buf) >= flushAt {
		e.flush()
	}
}

func (e *encoder) sep() { e.buf = append(e.buf, e.d.Element) }

// s appends an element.
func (e *encoder) s(v string) {
	e.buf = append(e.buf, e.d.Element)
	e.buf = append(e.buf, v...)
}

// empty appends n empty elements.
func (e *encoder) empty(n int) {
	for ; n > 0; n-- {
		e.buf = append(e.buf, e.d.Element)
	}
}

// raw appends to the current element.
func (e *encoder) raw(v string) { e.buf = append(e.buf, v...) }

func (e *encoder) i(v int64) {
	e.buf = append(e.buf, e.d.Element)
	e.buf = strconv.AppendInt(e.buf, v, 10)
}

// digits appends v zero-padded to width n to the current element.
func (e *encoder) digits(v uint64, n int) {
	var tmp [20]byte
	for k := n - 1; k >= 0; k-- {
		tmp[k] = byte('0' + v%10)
		v /= 10
	}
	e.buf = append(e.buf, tmp[:n]...)
}

// money appends cents as a decimal with two places.
func (e *encoder) money(cents int64) {
	e.buf = append(e.buf, e.d.Element)
	e.buf = strconv.AppendInt(e.buf, cents/100, 10)
	e.buf = append(e.buf, '.')
	e.digits(uint64(cents%100), 2)
}

// date appends CCYYMMDD.
func (e *encoder) date(t time.Time) {
	e.buf = append(e.buf, e.d.Element)
	y, m, d := t.Date()
	e.digits(uint64(y), 4)
	e.digits(uint64(m), 2)
	e.digits(uint64(d), 2)
}

// hhmm appends HHMM.
func (e *encoder) hhmm(t time.Time) {
	e.buf = append(e.buf, e.d.Element)
	e.digits(uint64(t.Hour()), 2)
	e.digits(uint64(t.Minute()), 2)
}

// pad appends v padded with spaces to width n (ISA fields).
func (e *encoder) pad(v string, n int) {
	e.buf = append(e.buf, e.d.Element)
	e.buf = append(e.buf, v...)
	for k := len(v); k < n; k++ {
		e.buf = append(e.buf, ' ')
	}
}

// ---- generator ----

type gen struct {
	opt  Options
	e    *encoder
	pcg  rand.PCG
	r    *rand.Rand
	now  time.Time
	ctrl uint64 // ISA13

	// Size model of a set: header+trailer bytes and bytes per line, first
	// estimated, then measured on the last full set.
	fixed, perLine int64
}

func newGen(w io.Writer, opt Options) *gen {
	g := &gen{opt: opt, e: &encoder{w: w, d: opt.Delimiters, buf: make([]byte, 0, flushAt+4096)}}
	g.pcg = *rand.NewPCG(uint64(opt.Seed), 0x9e3779b97f4a7c15)
	g.r = rand.New(&g.pcg)
	g.now = time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(700)).Add(time.Duration(g.r.IntN(600)) * time.Minute)
	g.ctrl = uint64(opt.Seed)%999999999 + 1
	switch opt.Set { // rough first estimates, refined as sets are written
	case "850":
		g.fixed, g.perLine = 520, 120
	case "855":
		g.fixed, g.perLine = 300, 150
	case "856":
		g.fixed, g.perLine = 560, 140
	case "810":
		g.fixed, g.perLine = 480, 120
	}
	return g
}

func (g *gen) fullSet() int64 { return g.fixed + g.perLine*int64(g.opt.LinesPerSet) }

// fit returns how many lines a set may have to take about rem bytes.
func (g *gen) fit(rem int64) int {
	if rem < g.fixed+g.perLine/2 {
		return 0
	}
	n := (rem - g.fixed + g.perLine/2) / g.perLine
	return int(max(1, min(n, int64(g.opt.LinesPerSet))))
}

func (g *gen) isa() {
	e, o := g.e, g.opt
	e.seg("ISA")
	e.s("00")
	e.pad("", 10)
	e.s("00")
	e.pad("", 10)
	e.s("ZZ")
	e.pad(o.Sender, 15)
	e.s("ZZ")
	e.pad(o.Receiver, 15)
	e.sep()
	y, m, d := g.now.Date()
	e.digits(uint64(y%100), 2)
	e.digits(uint64(m), 2)
	e.digits(uint64(d), 2)
	e.hhmm(g.now)
	e.sep()
	if o.Version >= "005010" {
		e.buf = append(e.buf, o.Delimiters.Repetition)
		e.s("00501")
	} else {
		e.raw("U")
		e.s("00401")
	}
	e.sep()
	e.digits(g.ctrl, 9)
	e.s("0")
	e.s("P")
	e.sep()
	e.buf = append(e.buf, o.Delimiters.Component)
	e.end()
}

func (g *gen) iea(groups int) {
	e := g.e
	e.seg("IEA")
	e.i(int64(groups))
	e.sep()
	e.digits(g.ctrl, 9)
	e.end()
}

var groupIDs = map[string]string{"850": "PO", "855": "PR", "856": "SH", "810": "IN"}

func (g *gen) gs(n int) {
	e, o := g.e, g.opt
	e.seg("GS")
	e.s(groupIDs[o.Set])
	e.s(o.Sender)
	e.s(o.Receiver)
	e.date(g.now)
	e.hhmm(g.now)
	e.i(int64(n))
	e.s("X")
	e.s(o.Version)
	e.end()
}

func (g *gen) ge(sets, n int) {
	e := g.e
	e.seg("GE")
	e.i(int64(sets))
	e.i(int64(n))
	e.end()
}

// set writes one transaction set with the given number of lines.
func (g *gen) set(n, lines int) {
	e := g.e
	start := e.written()
	e.segs = 0
	e.seg("ST")
	e.s(g.opt.Set)
	g.control(n)
	e.end()
	doc := g.newDoc()
	var body, trailer int64 // byte counts of the lines and of the summary
	switch g.opt.Set {
	case "850":
		body, trailer = g.po850(doc, lines)
	case "855":
		body, trailer = g.ack855(doc, lines)
	case "856":
		body, trailer = g.asn856(doc, lines)
	case "810":
		body, trailer = g.inv810(doc, lines)
	}
	e.seg("SE")
	e.i(int64(e.segs))
	g.control(n)
	e.end()
	if lines == g.opt.LinesPerSet && lines > 0 {
		total := e.written() - start
		g.perLine = max(1, body/int64(lines))
		g.fixed = total - body
		_ = trailer
	}
}

// control appends a set control number: at least four digits.
func (g *gen) control(n int) {
	if n < 10000 {
		g.e.sep()
		g.e.digits(uint64(n), 4)
		return
	}
	g.e.i(int64(n))
}

// ---- content ----

var (
	companies = []string{"ACME RETAIL STORES", "NORTHWIND DISTRIBUTION", "BLUE RIVER SUPPLY CO", "SUMMIT HARDWARE INC",
		"PACIFIC FOODS WHOLESALE", "GREAT LAKES OFFICE SUPPLY", "LONE STAR ELECTRICAL", "EVERGREEN HOME GOODS",
		"WIDGET WORKS MFG", "HARBOR FREIGHT PARTNERS", "MIDWEST JANITORIAL", "COASTAL MEDICAL SUPPLY"}
	streets = []string{"100 MAIN ST", "2500 INDUSTRIAL PKWY", "77 HARBOR BLVD", "4100 COMMERCE DR", "18 MILL RD STE 200",
		"900 WAREHOUSE WAY", "3150 DISTRIBUTION CTR DR", "12 ELM ST"}
	cities = [][3]string{{"CHICAGO", "IL", "60607"}, {"DALLAS", "TX", "75201"}, {"ATLANTA", "GA", "30303"},
		{"COLUMBUS", "OH", "43215"}, {"RENO", "NV", "89502"}, {"PORTLAND", "OR", "97209"}, {"MEMPHIS", "TN", "38103"},
		{"EDISON", "NJ", "08817"}, {"ONTARIO", "CA", "91761"}, {"JOLIET", "IL", "60436"}}
	people     = []string{"MARIA GARCIA", "JOHN SMITH", "WEI CHEN", "PRIYA PATEL", "JAMES OBRIEN", "ANNA KOWALSKI"}
	adjectives = []string{"STAINLESS", "GALVANIZED", "HEAVY DUTY", "ORGANIC", "PREMIUM", "ECONOMY", "INDUSTRIAL", "COMMERCIAL", "RECYCLED", "BLUE"}
	nouns      = []string{"HEX BOLT 0.375 IN", "WOOD SCREW NO 8", "LED BULB 60W EQ", "COFFEE BEANS", "COPY PAPER LTR",
		"NITRILE GLOVES L", "PVC PIPE 1 IN", "SHOP TOWELS", "EXTENSION CORD 25 FT", "SAFETY GLASSES", "DISH SOAP 1 GAL",
		"PALLET WRAP 18 IN", "AA BATTERIES", "TRASH BAGS 33 GAL"}
	packs    = []string{"12 PK", "CASE OF 24", "BOX OF 100", "EACH", "5 LB BAG", "6 PK", "DOZEN"}
	units    = []string{"EA", "EA", "EA", "CA", "BX", "PK", "DZ"}
	carriers = [][2]string{{"UPSN", "UPS GROUND"}, {"FDEG", "FEDEX GROUND"}, {"ODFL", "OLD DOMINION"}, {"RLCA", "R AND L CARRIERS"}, {"ABFS", "ABF FREIGHT"}}
)

// doc holds the values shared by the segments of one set.
type doc struct {
	po        uint64
	poDate    time.Time
	shipDate  time.Time
	buyer     int
	shipTo    int
	supplier  int
	vendorNo  uint64
	skuBase   uint64
	upcPrefix uint64
}

func (g *gen) newDoc() *doc {
	r := g.r
	d := &doc{
		po:        4500000000 + r.Uint64N(99999999),
		poDate:    g.now.AddDate(0, 0, -r.IntN(30)),
		buyer:     r.IntN(len(companies)),
		shipTo:    r.IntN(len(cities)),
		supplier:  r.IntN(len(companies)),
		vendorNo:  100000 + r.Uint64N(899999),
		skuBase:   r.Uint64N(900000),
		upcPrefix: 10000 + r.Uint64N(89999),
	}
	d.shipDate = d.poDate.AddDate(0, 0, 2+r.IntN(10))
	return d
}

func (g *gen) pick(l []string) string { return l[g.r.IntN(len(l))] }

// party writes an N1 loop (N1, N3, N4).
func (g *gen) party(code string, company, city int, id uint64) {
	e := g.e
	e.seg("N1")
	e.s(code)
	e.s(companies[company])
	e.s("92")
	e.sep()
	e.digits(id, 6)
	e.end()
	e.seg("N3")
	e.s(streets[(company+city)%len(streets)])
	e.end()
	c := cities[city]
	e.seg("N4")
	e.s(c[0])
	e.s(c[1])
	e.s(c[2])
	e.s("US")
	e.end()
}

// item is one line item.
type item struct {
	line  int
	qty   int64
	unit  string
	cents int64
	sku   uint64
}

func (g *gen) item(d *doc, line int) item {
	r := g.r
	it := item{line: line, qty: 1 + r.Int64N(200), unit: g.pick(units), sku: (d.skuBase + uint64(r.IntN(5000))) % 1000000}
	it.cents = 50 + r.Int64N(25000)
	if r.IntN(8) == 0 {
		it.cents *= 10
	}
	return it
}

// productIDs appends the BP / VP / UP pairs of a PO1, IT1 or LIN.
func (g *gen) productIDs(it item, d *doc) {
	e := g.e
	e.s("BP")
	e.sep()
	e.raw("SKU")
	e.digits(it.sku, 6)
	e.s("VP")
	e.sep()
	e.raw("VP-")
	e.digits(it.sku*7%100000, 5)
	e.raw("-")
	e.digits(uint64(it.line%100), 2)
	e.s("UP")
	e.sep()
	upc := (d.upcPrefix*100000 + it.sku%100000) % 100000000000
	e.digits(upc, 11)
	e.digits(uint64(upcCheck(upc)), 1)
}

// upcCheck returns the check digit of an 11-digit UPC-A body.
func upcCheck(v uint64) int {
	sum := 0
	for k := 0; k < 11; k++ {
		dgt := int(v % 10)
		v /= 10
		if k%2 == 0 { // positions 11, 9, … from the left weigh 3
			sum += 3 * dgt
		} else {
			sum += dgt
		}
	}
	return (10 - sum%10) % 10
}

// pid writes a free-form description.
func (g *gen) pid(it item) {
	e := g.e
	e.seg("PID")
	e.s("F")
	e.empty(3)
	e.s(adjectives[(it.sku/7)%uint64(len(adjectives))])
	e.raw(" ")
	e.raw(nouns[it.sku%uint64(len(nouns))])
	e.raw(" ")
	e.raw(packs[(it.sku/3)%uint64(len(packs))])
	e.end()
}

func (g *gen) po1(seg string, it item, d *doc) {
	e := g.e
	e.seg(seg)
	e.i(int64(it.line))
	e.i(it.qty)
	e.s(it.unit)
	e.money(it.cents)
	e.sep()
	g.productIDs(it, d)
	e.end()
}

func (g *gen) po850(d *doc, lines int) (body, trailer int64) {
	e, r := g.e, g.r
	e.seg("BEG")
	e.s("00")
	e.s("SA")
	e.i(int64(d.po))
	e.sep()
	e.date(d.poDate)
	e.end()
	e.seg("CUR")
	e.s("BY")
	e.s("USD")
	e.end()
	e.seg("REF")
	e.s("DP")
	e.i(int64(100 + r.IntN(900)))
	e.end()
	e.seg("REF")
	e.s("IA")
	e.i(int64(d.vendorNo))
	e.end()
	e.seg("PER")
	e.s("BD")
	e.s(g.pick(people))
	e.s("TE")
	e.sep()
	e.digits(2000000000+r.Uint64N(7999999999), 10)
	e.end()
	e.seg("DTM")
	e.s("002")
	e.date(d.shipDate.AddDate(0, 0, 3))
	e.end()
	e.seg("DTM")
	e.s("010")
	e.date(d.shipDate)
	e.end()
	g.party("BT", d.buyer, 0, 100001)
	g.party("ST", d.buyer, d.shipTo, 200000+uint64(d.shipTo))
	start := e.written()
	var hash, total int64
	for l := 1; l <= lines; l++ {
		it := g.item(d, l)
		g.po1("PO1", it, d)
		g.pid(it)
		hash += it.qty
		total += it.qty * it.cents
	}
	body = e.written() - start
	start = e.written()
	e.seg("CTT")
	e.i(int64(lines))
	e.i(hash)
	e.end()
	e.seg("AMT")
	e.s("TT")
	e.money(total)
	e.end()
	return body, e.written() - start
}

func (g *gen) ack855(d *doc, lines int) (body, trailer int64) {
	e, r := g.e, g.r
	e.seg("BAK")
	e.s("00")
	if r.IntN(3) == 0 {
		e.s("AD") // acknowledge - with detail, no change
	} else {
		e.s("AC") // acknowledge - with detail and change
	}
	e.i(int64(d.po))
	e.date(d.poDate)
	e.empty(3)
	e.sep()
	e.raw("SO")
	e.digits(d.po%10000000, 7)
	e.end()
	e.seg("CUR")
	e.s("SE")
	e.s("USD")
	e.end()
	e.seg("REF")
	e.s("IA")
	e.i(int64(d.vendorNo))
	e.end()
	e.seg("DTM")
	e.s("017")
	e.date(d.shipDate.AddDate(0, 0, 3))
	e.end()
	g.party("ST", d.buyer, d.shipTo, 200000+uint64(d.shipTo))
	start := e.written()
	var hash int64
	for l := 1; l <= lines; l++ {
		it := g.item(d, l)
		g.po1("PO1", it, d)
		g.pid(it)
		hash += it.qty
		ack := func(code string, qty int64, date time.Time) {
			e.seg("ACK")
			e.s(code)
			e.i(qty)
			e.s(it.unit)
			e.s("068")
			e.date(date)
			e.end()
		}
		switch k := r.IntN(10); {
		case k < 6 || it.qty < 2:
			ack("IA", it.qty, d.shipDate)
		case k < 8: // part shipped now, the rest backordered
			now := 1 + r.Int64N(it.qty-1)
			ack("IQ", now, d.shipDate)
			ack("IB", it.qty-now, d.shipDate.AddDate(0, 0, 7+r.IntN(21)))
		default: // rescheduled
			ack("DR", it.qty, d.shipDate.AddDate(0, 0, 1+r.IntN(14)))
		}
	}
	body = e.written() - start
	start = e.written()
	e.seg("CTT")
	e.i(int64(lines))
	e.i(hash)
	e.end()
	return body, e.written() - start
}

// sscc appends an SSCC-18 with its "00" application identifier.
func (g *gen) sscc(serial uint64) {
	e := g.e
	e.s("GM")
	e.sep()
	e.raw("00")
	// extension digit 0, GS1 company prefix 0614141, serial reference
	body := uint64(6141410000000000) + serial%1000000000
	var ds [17]int
	v := body
	for k := 16; k >= 0; k-- {
		ds[k] = int(v % 10)
		v /= 10
	}
	sum := 0
	for k := 0; k < 17; k++ {
		if k%2 == 0 {
			sum += 3 * ds[k]
		} else {
			sum += ds[k]
		}
	}
	e.digits(body, 17)
	e.digits(uint64((10-sum%10)%10), 1)
}

func (g *gen) hl(id, parent int, level string, children bool) {
	e := g.e
	e.seg("HL")
	e.i(int64(id))
	if parent > 0 {
		e.i(int64(parent))
	} else {
		e.sep()
	}
	e.s(level)
	if children {
		e.s("1")
	} else {
		e.s("0")
	}
	e.end()
}

func (g *gen) asn856(d *doc, lines int) (body, trailer int64) {
	e, r := g.e, g.r
	e.seg("BSN")
	e.s("00")
	e.sep()
	e.raw("SH")
	e.digits(d.po%100000000, 8)
	e.date(d.shipDate)
	e.hhmm(g.now)
	e.s("0001")
	e.end()
	e.seg("DTM")
	e.s("011")
	e.date(d.shipDate)
	e.hhmm(g.now)
	e.end()
	// Shipment level.
	cartons := (lines + 1) / 2
	g.hl(1, 0, "S", true)
	e.seg("TD1")
	e.s("CTN25")
	e.i(int64(cartons))
	e.empty(3)
	e.s("G")
	e.i(int64(cartons*(5+r.IntN(30)) + 1))
	e.s("LB")
	e.end()
	c := carriers[r.IntN(len(carriers))]
	e.seg("TD5")
	e.s("B")
	e.s("2")
	e.s(c[0])
	e.s("M")
	e.s(c[1])
	e.end()
	e.seg("REF")
	e.s("BM")
	e.sep()
	e.raw("BOL")
	e.digits(d.po%1000000000, 9)
	e.end()
	e.seg("REF")
	e.s("CN")
	e.i(int64(100000000 + r.Uint64N(899999999)))
	e.end()
	g.party("ST", d.buyer, d.shipTo, 200000+uint64(d.shipTo))
	g.party("SF", d.supplier, (d.shipTo+3)%len(cities), 300000+uint64(d.supplier))
	// Order level.
	g.hl(2, 1, "O", true)
	e.seg("PRF")
	e.i(int64(d.po))
	e.empty(2)
	e.date(d.poDate)
	e.end()
	start := e.written()
	hl, hls := 2, 2
	var hash int64
	serial := d.po * 1000
	for l := 1; l <= lines; {
		// A tare (pallet) of up to 6 cartons, each with 1 to 3 items.
		hl++
		tare := hl
		g.hl(tare, 2, "T", true)
		serial++
		e.seg("MAN")
		g.sscc(serial)
		e.end()
		for p := 0; p < 1+r.IntN(6) && l <= lines; p++ {
			hl++
			pack := hl
			g.hl(pack, tare, "P", true)
			serial++
			e.seg("MAN")
			g.sscc(serial)
			e.end()
			for k := 0; k < 1+r.IntN(3) && l <= lines; k++ {
				hl++
				g.hl(hl, pack, "I", false)
				it := g.item(d, l)
				e.seg("LIN")
				e.i(int64(l))
				g.productIDs(it, d)
				e.end()
				e.seg("SN1")
				e.sep()
				e.i(it.qty)
				e.s(it.unit)
				e.end()
				g.pid(it)
				hash += it.qty
				l++
			}
		}
	}
	hls = hl
	body = e.written() - start
	start = e.written()
	e.seg("CTT")
	e.i(int64(hls))
	e.i(hash)
	e.end()
	return body, e.written() - start
}

func (g *gen) inv810(d *doc, lines int) (body, trailer int64) {
	e, r := g.e, g.r
	invDate := d.shipDate.AddDate(0, 0, 1)
	e.seg("BIG")
	e.date(invDate)
	e.sep()
	e.raw("INV")
	e.digits(d.po%10000000, 7)
	e.date(d.poDate)
	e.i(int64(d.po))
	e.end()
	e.seg("CUR")
	e.s("SE")
	e.s("USD")
	e.end()
	e.seg("REF")
	e.s("IA")
	e.i(int64(d.vendorNo))
	e.end()
	e.seg("REF")
	e.s("BM")
	e.sep()
	e.raw("BOL")
	e.digits(d.po%1000000000, 9)
	e.end()
	g.party("RE", d.supplier, (d.shipTo+3)%len(cities), 300000+uint64(d.supplier))
	g.party("ST", d.buyer, d.shipTo, 200000+uint64(d.shipTo))
	e.seg("DTM")
	e.s("011")
	e.date(d.shipDate)
	e.end()
	start := e.written()
	var hash, total int64
	for l := 1; l <= lines; l++ {
		it := g.item(d, l)
		g.po1("IT1", it, d)
		g.pid(it)
		hash += it.qty
		total += it.qty * it.cents
	}
	body = e.written() - start
	start = e.written()
	allowance := total * int64(r.IntN(4)) / 100 // 0 to 3 % discount
	freight := int64(1500 + r.IntN(20000))
	e.seg("TDS")
	e.i(total - allowance + freight)
	e.end()
	if allowance > 0 {
		e.seg("SAC")
		e.s("A")
		e.s("C310")
		e.empty(2)
		e.i(allowance)
		e.end()
	}
	e.seg("SAC")
	e.s("C")
	e.s("D240")
	e.empty(2)
	e.i(freight)
	e.end()
	e.seg("CTT")
	e.i(int64(lines))
	e.i(hash)
	e.end()
	return body, e.written() - start
}
