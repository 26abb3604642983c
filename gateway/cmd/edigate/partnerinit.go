package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
)

var partnerTemplate = template.Must(template.New("partner").Parse(`# Partner {{.ID}}: written by edigate partner init on {{.Date}}.
# Every key is documented in partners/partner.go. Run
#   edigate partner check {{.File}}
# after each change; the partner goes live when the check is green.
id: {{.ID}}
name: {{printf "%q" .Name}}
x12:
  isa: "{{.ISA}}"          # the partner's interchange id (ISA05:ISA06)
  gs: "{{.GS}}"            # its application code (GS02 when it sends)
  version: "{{.Version}}"
  acknowledgement:
    type: ""                # 997 or 999; empty: 997 for 004010, 999 for 005010
    ta1: false
    expect_within: 4h       # our 850s must be acknowledged within
# Sets not listed use mappings/{{.ID}}/<set>-<version>.yaml when it exists,
# else the default mapping.
mappings: {}
transports:
{{- if .SFTPKey}}
  sftp:
    username: {{.ID}}
    public_keys:
      - "{{.SFTPKey}}"
{{- end}}
{{- if .AS2ID}}
  as2:
    id: "{{.AS2ID}}"
    url: ""                 # where we post to the partner
{{- if .AS2Cert}}
    certificate: {{.AS2Cert}}
{{- end}}
    sign: sha256
    encrypt: aes256-cbc
    mdn: {mode: sync, signed: true}
    require_signed: true
    require_encrypted: true
{{- end}}
{{- if and (not .SFTPKey) (not .AS2ID)}}
  # sftp: {username: ..., public_keys: [...]} or as2: {id: ..., url: ...}
  {}
{{- end}}
sla:
  po_ack_within: 24h
  ship_notice_by: requested_date
  retry: {attempts: 5, backoff: 30s}
tolerances:
  price_percent: "0.5"
  quantity_absolute: "0"
  date_days: 2
`))

func runPartnerInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("partner init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	isa := fs.String("isa", "", "the partner's interchange id, QUAL:ID (required)")
	version := fs.String("version", "004010", "X12 version the partner uses")
	name := fs.String("name", "", "the partner's name")
	as2ID := fs.String("as2-id", "", "the partner's AS2 name")
	as2Cert := fs.String("as2-cert", "", "the partner's AS2 certificate (PEM), copied beside the partner file")
	sftpKey := fs.String("sftp-key", "", "the partner's SSH public key file (authorized_keys line)")
	dir := fs.String("partners", env("EDIGATE_PARTNERS", "partners"), "partner folder ($EDIGATE_PARTNERS)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: edigate partner init ID --isa QUAL:ID [--version 004010] [--as2-id ID --as2-cert FILE] [--sftp-key FILE]")
		return 2
	}
	id := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *isa == "" {
		fmt.Fprintln(stderr, "edigate: --isa QUAL:ID is required")
		return 2
	}
	file := filepath.Join(*dir, id+".yaml")
	if _, err := os.Stat(file); err == nil {
		fmt.Fprintf(stderr, "edigate: %s already exists; edit it or remove it first\n", file)
		return 1
	}
	_, isaID, _ := strings.Cut(*isa, ":")
	data := map[string]string{
		"ID": id, "Name": *name, "ISA": *isa, "GS": isaID, "Version": *version, "AS2ID": *as2ID,
		"File": file, "Date": time.Now().Format("2006-01-02"),
	}
	if data["Name"] == "" {
		data["Name"] = id
	}
	if err := os.MkdirAll(filepath.Join(*dir, id, "samples"), 0o755); err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	if *as2Cert != "" {
		b, err := os.ReadFile(*as2Cert)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		rel := filepath.Join(id, "as2.pem")
		if err := os.WriteFile(filepath.Join(*dir, rel), b, 0o644); err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		data["AS2Cert"] = filepath.ToSlash(rel)
	}
	if *sftpKey != "" {
		b, err := os.ReadFile(*sftpKey)
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		data["SFTPKey"] = strings.TrimSpace(string(b))
	}
	var buf bytes.Buffer
	if err := partnerTemplate.Execute(&buf, data); err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	if _, err := partners.Parse(file, buf.Bytes()); err != nil {
		fmt.Fprintf(stderr, "edigate: the partner file would not load: %v\n", err)
		return 1
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	// A first sample: a purchase order we would send, so that partner
	// check proves the 850 we write for this partner validates and reads
	// back. Add the partner's own files to the samples folder next.
	po := &canonical.PurchaseOrder{
		Header:   canonical.Header{Kind: canonical.KindPurchaseOrder, ID: "po-example", Partner: id, Direction: canonical.Outbound},
		PONumber: "4500000001", PODate: time.Now().Format("2006-01-02"), Purpose: "original", OrderType: "SA", Currency: "USD",
		ShipTo: &canonical.Party{Name: "DISTRIBUTION CENTER", ID: "DC01", IDQualifier: "92"},
		Lines:  []canonical.POLine{{LineNumber: "1", BuyerItem: "SKU-1", VendorItem: "ITEM-1", Quantity: "10", UOM: "EA", UnitPrice: "9.95", Description: "EXAMPLE ITEM"}},
	}
	b, _ := json.MarshalIndent(po, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, id, "samples", "po-example.json"), append(b, '\n'), 0o644); err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and %s\nnext: put the partner's sample files in %s, then run: edigate partner check %s\n",
		file, filepath.Join(*dir, id, "samples", "po-example.json"), filepath.Join(*dir, id, "samples"), file)
	return 0
}
