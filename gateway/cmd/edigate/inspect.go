package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/edigate/edigate/translators/x12"
)

func runInspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: edigate inspect FILE")
		return 2
	}
	reg, err := x12.LoadRegistry()
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	name := fs.Arg(0)
	f, err := openInput(name, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	defer f.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	p := &inspector{out: out}
	v := &x12.Validator{Registry: reg, Pipelined: true}
	fmt.Fprintf(out, "%s\n", name)
	if err := v.Validate(bufio.NewReader(f), x12.Events{
		Issue:       p.issue,
		Segment:     p.segment,
		Set:         p.set,
		Group:       p.group,
		Interchange: p.interchange,
	}); err != nil {
		fmt.Fprintf(stderr, "edigate: %s: %v\n", name, err)
		return 2
	}
	if p.errors > 0 {
		fmt.Fprintf(out, "\n%d error(s), %d warning(s)\n", p.errors, p.warnings)
		return 1
	}
	fmt.Fprintf(out, "\nvalid, %d warning(s)\n", p.warnings)
	return 0
}

// inspector prints the tree: interchange, group, set, segments with each
// element named, and findings right where they were found.
type inspector struct {
	out      *bufio.Writer
	indent   string
	errors   int
	warnings int
}

func (p *inspector) issue(e *x12.ParseError) {
	mark := "!! error"
	if e.Severity == x12.SeverityWarning {
		mark = "!  warning"
		p.warnings++
	} else {
		p.errors++
	}
	where := ""
	if e.Element > 0 {
		where = fmt.Sprintf(" %s%02d", e.SegmentID, e.Element)
	}
	code := ""
	if e.Code != "" {
		code = fmt.Sprintf(" [%s %s]", e.Level, e.Code)
	}
	fmt.Fprintf(p.out, "%s    %s at offset %d%s: %s%s\n", p.indent, mark, e.Offset, where, e.Message, code)
}

func (p *inspector) segment(ev *x12.SegmentEvent) {
	seg := ev.Segment
	id := string(seg.ID())
	switch id {
	case "ISA":
		d := ev.Delims
		fmt.Fprintf(p.out, "Interchange %s at offset %d: %s:%s → %s:%s, version %s, delimiters %s\n",
			strings.TrimSpace(string(seg.Element(13))), seg.Offset,
			strings.TrimSpace(string(seg.Element(5))), strings.TrimSpace(string(seg.Element(6))),
			strings.TrimSpace(string(seg.Element(7))), strings.TrimSpace(string(seg.Element(8))),
			seg.Element(12), d)
		p.indent = "  "
	case "GS":
		fmt.Fprintf(p.out, "  Group %s (%s) %s → %s, version %s\n", seg.Element(6), seg.Element(1), seg.Element(2), seg.Element(3), seg.Element(8))
		p.indent = "    "
	case "ST":
		fmt.Fprintf(p.out, "    Set %s %s\n", seg.Element(1), seg.Element(2))
		p.indent = "      "
	}
	name := "(unknown segment)"
	if ev.Def != nil {
		name = ev.Def.Name
	}
	ord := "    "
	if ev.Ordinal > 0 {
		ord = fmt.Sprintf("%04d", ev.Ordinal)
	}
	loop := ""
	if ev.LoopID != "" {
		loop = fmt.Sprintf("  [loop %s]", ev.LoopID)
	}
	ind := p.indent + strings.Repeat("  ", max(ev.Depth, 0))
	fmt.Fprintf(p.out, "%s%s %-3s %s%s\n", ind, ord, id, name, loop)
	for i := 1; i < len(seg.Elements); i++ {
		v := seg.Elements[i]
		if len(v) == 0 {
			continue
		}
		ename := ""
		if ev.Def != nil && i <= len(ev.Def.Elements) {
			ed := ev.Def.Elements[i-1]
			ename = fmt.Sprintf(" %s %s", ed.Ref, ed.Name)
		}
		fmt.Fprintf(p.out, "%s       %s%02d%s = %q\n", ind, id, i, ename, v)
	}
}

func (p *inspector) set(s *x12.SetResult) {
	fmt.Fprintf(p.out, "    Set %s %s: %s (%d segments)\n", s.ID, s.Control, statusWord(s.Status), s.Segments)
	p.indent = "    "
}

func (p *inspector) group(g *x12.GroupResult) {
	fmt.Fprintf(p.out, "  Group %s: %s, %d of %d sets accepted\n", g.Control, statusWord(g.Status), g.Accepted, g.Received)
	p.indent = "  "
}

func (p *inspector) interchange(ix *x12.InterchangeResult) {
	verdict := "envelope sound"
	if !ix.Accepted() {
		verdict = "envelope rejected (TA1 " + ix.NoteCode + ")"
	}
	fmt.Fprintf(p.out, "Interchange %s: %s, %d group(s)\n", ix.Control, verdict, ix.Groups)
	p.indent = ""
}

func statusWord(s string) string {
	switch s {
	case "A":
		return "accepted"
	case "E":
		return "accepted with errors noted"
	case "P":
		return "partially accepted"
	case "R":
		return "rejected"
	}
	return s
}
