package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edigate/edigate/gateway/translate"
	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// env returns an environment variable or a default.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// translatorFlags are the flags every translating command shares.
type translatorFlags struct {
	partners *string
	mappings *string
}

func addTranslatorFlags(fs *flag.FlagSet) translatorFlags {
	return translatorFlags{
		partners: fs.String("partners", env("EDIGATE_PARTNERS", "partners"), "partner folder ($EDIGATE_PARTNERS)"),
		mappings: fs.String("mappings", env("EDIGATE_MAPPINGS", ""), "mappings folder ($EDIGATE_MAPPINGS; default: beside the partner folder)"),
	}
}

// newTranslator loads partners and mappings. A partner folder that does not
// exist is no error (there are then no partners); a broken partner file is.
func (tf translatorFlags) newTranslator(stderr io.Writer) (*translate.Translator, error) {
	reg, err := x12.LoadRegistry()
	if err != nil {
		return nil, err
	}
	mdir := *tf.mappings
	if mdir == "" {
		mdir = filepath.Join(filepath.Dir(filepath.Clean(*tf.partners)), "mappings")
	}
	if _, err := os.Stat(mdir); err != nil {
		mdir = ""
	}
	dir := &partners.Directory{Dir: *tf.partners}
	if _, err := os.Stat(*tf.partners); err == nil {
		if dir, err = partners.LoadDir(*tf.partners); err != nil {
			return nil, err
		}
	}
	qual, id, err := translate.Identity(env("EDIGATE_ISA_ID", "ZZ:EDIGATE"))
	if err != nil {
		return nil, fmt.Errorf("EDIGATE_ISA_ID: %w", err)
	}
	return &translate.Translator{
		Registry: reg, Partners: dir, Library: &mappings.Library{Dir: mdir, Registry: reg},
		UsQual: qual, UsID: id, UsGS: env("EDIGATE_GS_ID", id), Alloc: &x12.CounterAllocator{},
	}, nil
}

func runTranslate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	partner := fs.String("partner", "", "translate as this partner (inbound: whoever the sender is; --to x12: required)")
	to := fs.String("to", "canonical", "canonical (X12 in, JSON lines out) or x12 (canonical JSON in, X12 out)")
	tf := addTranslatorFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || (*to != "canonical" && *to != "x12") || (*to == "x12" && *partner == "") {
		fmt.Fprintln(stderr, "usage: edigate translate [--partner ID] FILE\n       edigate translate --to x12 --partner ID FILE.json")
		return 2
	}
	t, err := tf.newTranslator(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	name := fs.Arg(0)
	if *to == "x12" {
		data, err := readAll(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 2
		}
		docs, err := translate.ParseDocuments(name, data)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		out, err := t.Outbound(*partner, docs...)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			if errors.Is(err, partners.ErrUnknownPartner) {
				return 2
			}
			return 1
		}
		stdout.Write(out)
		return 0
	}
	f, err := openInput(name, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	defer f.Close()
	// Documents are printed as they are made, so that a file of any size
	// translates in bounded memory.
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	res, err := t.Inbound(bufio.NewReaderSize(f, 256<<10), translate.Options{Partner: *partner, File: name, Document: func(d canonical.Document) {
		enc.Encode(d)
	}})
	out.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %s: %v\n", name, err)
		return 2
	}
	for _, u := range res.Unknown {
		fmt.Fprintf(stderr, "edigate: %s: note: no partner in %s has x12.isa %s; translated with the default mappings (the running gateway refuses this sender)\n", name, *tf.partners, u)
	}
	for _, fa := range res.Acks {
		fmt.Fprintf(stderr, "edigate: %s: functional acknowledgement %s of group %s %s: %s (%d of %d sets accepted)\n", name, fa.Kind, fa.GroupID, fa.GroupControl, fa.Status, fa.Accepted, fa.Received)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(stderr, "%v\n", p)
	}
	if len(res.Problems) > 0 {
		return 1
	}
	return 0
}

func readAll(name string, stdin io.Reader) ([]byte, error) {
	f, err := openInput(name, stdin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func runPartner(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "init" {
		return runPartnerInit(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: edigate partner check [--update] [PATH]\n       edigate partner init ID --isa QUAL:ID [...]")
		return 2
	}
	fs := flag.NewFlagSet("partner check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	update := fs.Bool("update", false, "write missing or changed expected outputs (.jsonl) instead of failing")
	tf := addTranslatorFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	only := ""
	if fs.NArg() == 1 {
		path := fs.Arg(0)
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			*tf.partners = filepath.Dir(path)
			only = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		} else {
			*tf.partners = path
		}
	}
	if _, err := os.Stat(*tf.partners); err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	t, err := tf.newTranslator(stderr)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL partner files:\n%v\n", err)
		return 1
	}
	failed, checked := false, 0
	for _, p := range t.Partners.Partners {
		if only != "" && p.ID != only {
			continue
		}
		checked++
		r := t.Check(p, *update)
		verdict := "green"
		if r.Failed {
			verdict = "FAILED"
			failed = true
		}
		fmt.Fprintf(stdout, "partner %s (%s, %s %s): %s\n", p.ID, p.Name, p.X12.ISA, p.X12.Version, verdict)
		for _, l := range r.Lines {
			fmt.Fprintln(stdout, l)
		}
	}
	if checked == 0 {
		fmt.Fprintf(stderr, "edigate: no partner files in %s\n", *tf.partners)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

func runSchema(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: edigate schema KIND (one of %s)\n", strings.Join(canonical.Kinds(), ", "))
		return 2
	}
	b, err := canonical.JSONSchema(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	stdout.Write(b)
	return 0
}
