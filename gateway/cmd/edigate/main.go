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
  edigate serve [--config FILE]                  run the gateway: SFTP, HTTP (AS2, API, metrics), worker, scheduler
  edigate token create NAME                      print a new API token (stored hashed)
  edigate replay MESSAGE_ID                      run a stored message through today's mappings again
  edigate erp import [--mapping F] FILE...       load the ERP's purchase orders (CSV / JSON lines); 850s go out
  edigate erp pull                               import what the ERP connector ($EDIGATE_ERP_URL) has ready
  edigate reconcile [--json]                     run a full reconciliation pass now
  edigate report [--date YYYY-MM-DD]             write the reconciliation report of a day (default yesterday)
  edigate partner init ID --isa QUAL:ID [...]    write a starting partner file that passes partner check
  edigate validate [--json] [--quiet] FILE...   check interchanges; exit 0 valid, 1 invalid, 2 usage or I/O error
  edigate ack [--997|--999] [--ta1] FILE         print the 997/999 (and TA1) edigate would send back
  edigate inspect FILE                           print a readable tree of the interchange, errors in place
  edigate schemas                                list the transaction-set schemas built in
  edigate translate [--partner ID] FILE          X12 in, canonical documents out (JSON lines)
  edigate translate --to x12 --partner ID FILE   canonical JSON in, X12 for that partner out
  edigate partner check [--update] [PATH]        load partners and mappings, run each partner's samples
  edigate schema KIND                            print the JSON Schema of a canonical document kind

Partners are read from $EDIGATE_PARTNERS (default ./partners), mappings from
$EDIGATE_MAPPINGS (default: the mappings folder beside the partner folder),
our own interchange id from $EDIGATE_ISA_ID (QUAL:ID, default ZZ:EDIGATE).

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
	case "translate":
		return runTranslate(rest, stdin, stdout, stderr)
	case "partner":
		return runPartner(rest, stdin, stdout, stderr)
	case "schema":
		return runSchema(rest, stdout, stderr)
	case "serve":
		return runServe(rest, stdout, stderr)
	case "token":
		return runToken(rest, stdout, stderr)
	case "replay":
		return runReplay(rest, stdout, stderr)
	case "erp":
		return runERP(rest, stdout, stderr)
	case "reconcile":
		return runReconcile(rest, stdout, stderr)
	case "report":
		return runReport(rest, stdout, stderr)
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
