// Command edigate is the edigate EDI gateway: one binary that validates,
// inspects and acknowledges X12 interchanges (and, later, serves them).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `edigate — an EDI-first B2B gateway for distributors

Usage:
  edigate validate [--json] [--quiet] FILE...   check interchanges; exit 0 valid, 1 invalid, 2 usage or I/O error
  edigate ack [--997|--999] [--ta1] FILE         print the 997/999 (and TA1) edigate would send back
  edigate inspect FILE                           print a readable tree of the interchange, errors in place
  edigate schemas                                list the transaction-set schemas built in

A FILE of "-" reads standard input.
`

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Main runs the command line and returns the exit status. Tests call it
// directly.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "validate":
		return runValidate(rest, stdin, stdout, stderr)
	case "ack":
		return runAck(rest, stdin, stdout, stderr)
	case "inspect":
		return runInspect(rest, stdin, stdout, stderr)
	case "schemas":
		return runSchemas(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "edigate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// openInput opens a named file, or standard input for "-".
func openInput(name string, stdin io.Reader) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(stdin), nil
	}
	return os.Open(name)
}
