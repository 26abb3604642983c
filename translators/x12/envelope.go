package x12

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Envelope is what an outbound interchange needs besides its sets.
type Envelope struct {
	SenderQual, SenderID     string // ISA05/ISA06: us
	ReceiverQual, ReceiverID string // ISA07/ISA08: the partner
	GSSender, GSReceiver     string // GS02/GS03
	FunctionalID             string // GS01, e.g. PO
	Version                  string // GS08, e.g. 004010
	Control                  int64  // ISA13
	GroupControl             int64  // GS06
	Test                     bool   // ISA15 T instead of P
	AckRequested             bool   // ISA14
	Time                     time.Time
	Delimiters               Delimiters
}

// isaVersion is the ISA12 that goes with a GS08 version.
func isaVersion(v string) string {
	switch {
	case len(v) >= 5 && v[:3] == "005":
		return "00501"
	case len(v) >= 6 && v[:4] == "0040":
		return "0040" + v[4:5]
	}
	return "00401"
}

// WriteInterchange writes one interchange holding one functional group with
// the given sets. Each set is its segments, ST to SE, each segment its ID
// followed by its elements.
func WriteInterchange(w io.Writer, env Envelope, sets [][][]string) error {
	d := env.Delimiters
	if d.Segment == "" {
		d = DefaultDelimiters
	}
	wr := NewWriter(w, d)
	t := env.Time.UTC()
	isa11 := "U"
	if d.Repetition != 0 {
		isa11 = string(d.Repetition)
	}
	usage, ack := "P", "0"
	if env.Test {
		usage = "T"
	}
	if env.AckRequested {
		ack = "1"
	}
	if len(env.SenderID) > 15 || len(env.ReceiverID) > 15 {
		return fmt.Errorf("interchange IDs are at most 15 characters: %q, %q", env.SenderID, env.ReceiverID)
	}
	ctl := fmt.Sprintf("%09d", env.Control)
	if len(ctl) != 9 {
		return fmt.Errorf("interchange control number %d has more than nine digits", env.Control)
	}
	wr.WriteSegment("ISA", "00", pad("", 10), "00", pad("", 10),
		pad(env.SenderQual, 2), pad(env.SenderID, 15), pad(env.ReceiverQual, 2), pad(env.ReceiverID, 15),
		t.Format("060102"), t.Format("1504"), isa11, isaVersion(env.Version), ctl, ack, usage, string(d.Component))
	gs := strconv.FormatInt(env.GroupControl, 10)
	wr.WriteSegment("GS", env.FunctionalID, env.GSSender, env.GSReceiver, t.Format("20060102"), t.Format("1504"), gs, "X", env.Version)
	for _, set := range sets {
		for _, seg := range set {
			if len(seg) == 0 {
				continue
			}
			wr.WriteSegment(seg[0], seg[1:]...)
		}
	}
	wr.WriteSegment("GE", strconv.Itoa(len(sets)), gs)
	wr.WriteSegment("IEA", "1", ctl)
	return wr.Flush()
}
