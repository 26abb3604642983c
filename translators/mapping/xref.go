package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// xref is an item cross-reference: the partner's item numbers and ours.
type xref struct {
	file     string
	partner  string // canonical field with the partner's item (vendor_item)
	ours     string // canonical field with our item (buyer_item)
	required bool   // an item missing from the list is an error
	toOurs   map[string]string
	toTheirs map[string]string
}

func (c *compiler) itemXref(n *yaml.Node) (*xref, error) {
	kv, err := c.pairs(n, "item_xref", "file", "partner_field", "our_field", "required")
	if err != nil {
		return nil, err
	}
	x := &xref{partner: "vendor_item", ours: "buyer_item"}
	var fileNode *yaml.Node
	for _, p := range kv {
		v, err := c.scalar(p[1], p[0].Value)
		if err != nil {
			return nil, err
		}
		switch p[0].Value {
		case "file":
			x.file, fileNode = v, p[1]
		case "partner_field":
			x.partner = v
		case "our_field":
			x.ours = v
		case "required":
			x.required = v == "true"
		}
	}
	if fileNode == nil {
		return nil, c.errf(n, "item_xref needs a file (CSV: partner_item,our_item)")
	}
	if c.read == nil {
		return nil, c.errf(fileNode, "item cross-reference %q cannot be read here", x.file)
	}
	data, err := c.read(c.dirs[fileNode], x.file)
	if err != nil {
		return nil, c.errf(fileNode, "reading item cross-reference: %v", err)
	}
	x.toOurs, x.toTheirs = map[string]string{}, map[string]string{}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	line := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, c.errf(fileNode, "item cross-reference %s: %v", x.file, err)
		}
		if line == 1 && len(rec) >= 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "partner_item") {
			continue
		}
		if len(rec) < 2 || strings.TrimSpace(rec[0]) == "" || strings.TrimSpace(rec[1]) == "" {
			return nil, c.errf(fileNode, "item cross-reference %s line %d: want partner_item,our_item", x.file, line)
		}
		theirs, ours := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if prev, dup := x.toOurs[theirs]; dup && prev != ours {
			return nil, c.errf(fileNode, "item cross-reference %s line %d: partner item %q maps to both %q and %q", x.file, line, theirs, prev, ours)
		}
		x.toOurs[theirs] = ours
		if _, dup := x.toTheirs[ours]; !dup {
			x.toTheirs[ours] = theirs
		}
	}
	return x, nil
}
