package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edigate/edigate/translators/x12"
)

// issueJSON is the --json form of one finding.
type issueJSON struct {
	File        string `json:"file"`
	Offset      int64  `json:"offset"`
	Severity    string `json:"severity"`
	Level       string `json:"level"`
	Code        string `json:"code,omitempty"`
	Interchange string `json:"interchange,omitempty"`
	Group       string `json:"group,omitempty"`
	Set         string `json:"set,omitempty"`
	SetID       string `json:"set_id,omitempty"`
	Segment     int    `json:"segment,omitempty"`
	SegmentID   string `json:"segment_id,omitempty"`
	Element     int    `json:"element,omitempty"`
	Component   int    `json:"component,omitempty"`
	Repetition  int    `json:"repetition,omitempty"`
	Value       string `json:"value,omitempty"`
	Message     string `json:"message"`
}

func toJSON(file string, e *x12.ParseError) issueJSON {
	return issueJSON{
		File: file, Offset: e.Offset, Severity: e.Severity.String(), Level: e.Level.String(), Code: e.Code,
		Interchange: e.Interchange, Group: e.Group, Set: e.Set, SetID: e.SetID,
		Segment: e.Segment, SegmentID: e.SegmentID, Element: e.Element, Component: e.Component,
		Repetition: e.Repetition, Value: e.Value, Message: e.Message,
	}
}

// formatIssue renders "file:offset: ISA c / GS c / ST c segment N (SEG) element M: message [code]".
func formatIssue(file string, e *x12.ParseError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", file, e.Offset)
	if p := e.Position(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Severity == x12.SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Message)
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s %s]", e.Level, e.Code)
	}
	return b.String()
}

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print findings as a JSON array")
	quiet := fs.Bool("quiet", false, "print errors only, not warnings")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: edigate validate [--json] [--quiet] FILE...")
		return 2
	}
	reg, err := x12.LoadRegistry()
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	v := &x12.Validator{Registry: reg, Pipelined: true}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	all := []issueJSON{}
	status := 0
	for _, name := range fs.Args() {
		f, err := openInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			status = 2
			continue
		}
		invalid := false
		err = v.Validate(bufio.NewReaderSize(f, 256<<10), x12.Events{Issue: func(e *x12.ParseError) {
			if e.Severity == x12.SeverityError {
				invalid = true
			} else if *quiet {
				return
			}
			if *asJSON {
				all = append(all, toJSON(name, e))
			} else {
				fmt.Fprintln(out, formatIssue(name, e))
			}
		}})
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %s: %v\n", name, err)
			status = 2
			continue
		}
		if invalid && status == 0 {
			status = 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(all)
	}
	return status
}

func runAck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	force997 := fs.Bool("997", false, "answer every group with a 997")
	force999 := fs.Bool("999", false, "answer every group with a 999")
	ta1 := fs.Bool("ta1", false, "always include a TA1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *force997 && *force999 {
		fmt.Fprintln(stderr, "usage: edigate ack [--997|--999] [--ta1] FILE")
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
	a := &x12.Acknowledger{Alloc: &x12.CounterAllocator{}, Now: time.Now, TA1: *ta1, Registry: reg}
	if *force997 {
		a.Force = "997"
	} else if *force999 {
		a.Force = "999"
	}
	v := &x12.Validator{Registry: reg, Pipelined: true}
	invalid := false
	if err := v.Validate(bufio.NewReader(f), a.Events(x12.Events{Issue: func(e *x12.ParseError) {
		if e.Severity == x12.SeverityError {
			invalid = true
		}
	}})); err != nil {
		fmt.Fprintf(stderr, "edigate: %s: %v\n", name, err)
		return 2
	}
	if err := a.Err(); err != nil {
		fmt.Fprintf(stderr, "edigate: %s: %v\n", name, err)
		return 2
	}
	if len(a.Acks) == 0 {
		fmt.Fprintf(stderr, "edigate: %s: nothing to acknowledge (no interchange could be read, or it holds only acknowledgements)\n", name)
	}
	for _, ack := range a.Acks {
		stdout.Write(ack.Bytes)
	}
	if invalid {
		return 1
	}
	return 0
}

func runSchemas(stdout io.Writer) int {
	reg, err := x12.LoadRegistry()
	if err != nil {
		fmt.Fprintf(stdout, "edigate: %v\n", err)
		return 2
	}
	for _, k := range reg.Keys() {
		fmt.Fprintln(stdout, k)
	}
	return 0
}
