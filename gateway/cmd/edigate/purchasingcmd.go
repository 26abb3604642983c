package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/erp"
	"github.com/edigate/edigate/gateway/purchasing"
	"github.com/edigate/edigate/gateway/sqlite"
)

// newPurchasing builds the purchasing service over an open store.
func newPurchasing(cfg Config, db *sqlite.DB, w *wiring, log *slog.Logger) (*purchasing.Service, error) {
	inbox, err := cfg.erpInbox()
	if err != nil {
		return nil, err
	}
	var m erp.Mapping
	if cfg.ERP.Mapping != "" {
		if m, err = erp.LoadMapping(cfg.ERP.Mapping); err != nil {
			return nil, fmt.Errorf("erp.mapping: %w", err)
		}
	}
	if err := os.MkdirAll(inbox, 0o750); err != nil {
		return nil, fmt.Errorf("ERP inbox: %w", err)
	}
	return &purchasing.Service{
		Store: db, Partners: w.dir, Translator: w.tr, SenderFor: w.snd.For,
		Connector: &erp.FileConnector{Inbox: inbox, Outbox: cfg.erpOutbox(), Mapping: m},
		ReportDir: cfg.reportDir(), Logger: log,
	}, nil
}

// withPurchasing opens the store and the service for a command.
func withPurchasing(stderr io.Writer, run func(cfg Config, svc *purchasing.Service) int) int {
	return withStore(stderr, func(cfg Config, db *sqlite.DB) int {
		log := newLogger(cfg.LogFormat, stderr)
		w, err := wire(cfg, db, log)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		svc, err := newPurchasing(cfg, db, w, log)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		return run(cfg, svc)
	})
}

const erpUsage = `usage:
  edigate erp import [--mapping FILE] FILE...   load purchase orders from ERP exports (CSV or JSON lines)
  edigate erp pull                              import what the configured ERP connector has ready`

func runERP(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, erpUsage)
		return 2
	}
	switch args[0] {
	case "import":
		return runERPImport(args[1:], stdout, stderr)
	case "pull":
		if len(args) != 1 {
			fmt.Fprintln(stderr, erpUsage)
			return 2
		}
		return withPurchasing(stderr, func(_ Config, svc *purchasing.Service) int {
			rep, err := svc.Pull(context.Background())
			return printImport(rep, err, stdout, stderr)
		})
	}
	fmt.Fprintln(stderr, erpUsage)
	return 2
}

func runERPImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("erp import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mapping := fs.String("mapping", "", "YAML column mapping (default: the configured erp.mapping, else the default columns)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, erpUsage)
		return 2
	}
	return withPurchasing(stderr, func(_ Config, svc *purchasing.Service) int {
		m := svc.Connector.(*erp.FileConnector).Mapping // the configured erp.mapping
		if *mapping != "" {
			var err error
			if m, err = erp.LoadMapping(*mapping); err != nil {
				fmt.Fprintf(stderr, "edigate: %v\n", err)
				return 2
			}
		}
		status := 0
		for _, name := range fs.Args() {
			orders, problems, err := erp.ImportFile(name, m)
			if err != nil {
				fmt.Fprintf(stderr, "edigate: %v\n", err)
				status = 1
				continue
			}
			rep, err := svc.Import(context.Background(), name, orders, problems)
			if s := printImport(rep, err, stdout, stderr); s > status {
				status = s
			}
		}
		return status
	})
}

// printImport prints an import's outcome; rows refused and 850s not sent
// make the exit status 1, with each problem on stderr.
func printImport(rep *purchasing.ImportReport, err error, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported: %d new, %d changed, %d unchanged purchase orders; %d 850s sent; exceptions: %d raised, %d updated, %d reopened, %d cleared\n",
		rep.Created, rep.Changed, rep.Unchanged, len(rep.Sent), rep.Exceptions.Raised, rep.Exceptions.Updated, rep.Exceptions.Reopened, rep.Exceptions.Cleared)
	for _, p := range rep.UnknownPart {
		fmt.Fprintf(stderr, "warning: partner %q has no partner file: its orders are kept and reconciled, but no 850 is sent\n", p)
	}
	status := 0
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "%s\n", p)
		status = 1
	}
	for _, p := range rep.SendErrors {
		fmt.Fprintf(stderr, "850 not sent (the gateway tries again with the same bytes): %s\n", p)
		status = 1
	}
	return status
}

func runReconcile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: edigate reconcile [--json]")
		return 2
	}
	return withPurchasing(stderr, func(_ Config, svc *purchasing.Service) int {
		res, err := svc.Reconcile(context.Background(), gateway.Scope{All: true})
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		if *asJSON {
			_ = json.NewEncoder(stdout).Encode(res)
			return 0
		}
		fmt.Fprintf(stdout, "reconciled: %d raised, %d updated, %d reopened, %d cleared\n", res.Raised, res.Updated, res.Reopened, res.Cleared)
		return 0
	})
}

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	date := fs.String("date", "", "the day to report, YYYY-MM-DD (default: yesterday, UTC)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	day := time.Now().UTC().AddDate(0, 0, -1).Truncate(24 * time.Hour)
	if *date != "" {
		var err error
		if day, err = time.Parse(time.DateOnly, *date); err != nil {
			fmt.Fprintf(stderr, "edigate: --date %q is not YYYY-MM-DD\n", *date)
			return 2
		}
	}
	return withPurchasing(stderr, func(_ Config, svc *purchasing.Service) int {
		files, err := svc.Report(context.Background(), day)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		for _, f := range files {
			fmt.Fprintln(stdout, f)
		}
		return 0
	})
}
