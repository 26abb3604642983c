package erp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edigate/edigate/gateway"
)

// ImportFile opens the export at path and parses it; errors and problems
// name the file as path.
func ImportFile(path string, m Mapping) ([]gateway.Order, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Parse(path, f, m)
}

// Parse reads an ERP export of open purchase orders. name is the file's
// name: it picks the format (.csv and .txt are CSV; .jsonl, .ndjson and
// .json are JSON lines; otherwise a first non-blank "{" means JSON lines),
// becomes each order's Source and starts every error message.
//
// Rows form orders by partner and PO number, in the order first seen,
// with their lines in row order. A bad row is left out and reported as a
// *RowError in problems. err is an I/O error, an invalid Mapping, or a
// *FileError for a file that is not an export at all; an empty file is no
// orders and no error.
func Parse(name string, r io.Reader, m Mapping) (orders []gateway.Order, problems []error, err error) {
	s, err := m.compile()
	if err != nil {
		return nil, nil, fmt.Errorf("erp mapping: %w", err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(name, br); err != nil {
		return nil, nil, err
	}
	jsonLines, err := isJSONLines(name, br)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	b := &builder{file: name, spec: s, index: map[poKey]int{}}
	if jsonLines {
		err = b.readJSONLines(br)
	} else {
		err = b.readCSV(br)
	}
	if err != nil {
		return nil, nil, err
	}
	orders, problems = b.result()
	return orders, problems, nil
}

// skipBOM drops a UTF-8 byte order mark and refuses UTF-16.
func skipBOM(name string, br *bufio.Reader) error {
	head, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		_, err = br.Discard(3)
		return err
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		return &FileError{File: name, Err: errors.New("UTF-16 text is not supported; export as UTF-8")}
	}
	return nil
}

// isJSONLines decides the format from the name's extension or, failing
// that, from the first non-blank byte.
func isJSONLines(name string, br *bufio.Reader) (bool, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".txt":
		return false, nil
	case ".jsonl", ".ndjson", ".json":
		return true, nil
	}
	for n := 1; n <= br.Size(); n++ {
		head, err := br.Peek(n)
		if len(head) < n {
			if err == io.EOF {
				err = nil
			}
			return false, err
		}
		switch head[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// cell is one value of a row, with where it came from.
type cell struct {
	value  string
	column string // the export's column or key, for errors
	line   int
	number bool  // a JSON number: its decimal point is "." whatever the mapping says
	err    error // the value cannot be used at all
}

// poKey identifies a partner's purchase order.
type poKey struct{ partner, poNumber string }

// builder collects rows into orders.
type builder struct {
	file     string
	spec     *spec
	orders   []gateway.Order
	index    map[poKey]int // position in orders
	po       []poState     // by position in orders
	problems []error
	held     map[poKey]int // orders with a refused row → its line
	untied   int           // the first row that could not be read as a row at all
}

// poState is what the builder knows of an order's rows.
type poState struct {
	dateLine int            // the line that set PODate
	lines    map[string]int // line number → the line that had it
}

// rowError returns a *RowError for c.
func (b *builder) rowError(c cell, err error) error {
	return &RowError{File: b.file, Line: c.line, Column: c.column, Err: err}
}

// constantCell returns the cell of field f when it has a constant.
func (b *builder) constantCell(f, line int) (cell, bool) {
	if !b.spec.isConstant[f] {
		return cell{}, false
	}
	return cell{value: b.spec.constant[f], column: fieldNames[f], line: line}, true
}

// add checks one row and adds it to its order, or reports its problems.
func (b *builder) add(line int, cells *[numFields]cell) {
	var vals [numFields]string
	var errs []error
	for f := range numFields {
		v, err := b.spec.value(f, cells[f])
		if err != nil {
			errs = append(errs, b.rowError(cells[f], err))
		}
		vals[f] = v
	}
	key := poKey{vals[fieldPartner], vals[fieldPONumber]}
	if len(errs) > 0 {
		b.problems = append(b.problems, errs...)
		b.hold(key, line)
		return
	}
	i, ok := b.index[key]
	if !ok {
		i = b.newOrder(key)
	} else if errs := b.conflicts(i, cells, &vals); len(errs) > 0 {
		b.problems = append(b.problems, errs...)
		b.hold(key, line)
		return
	}
	b.addLine(i, line, &vals)
}

// hold notes that the order of key had a refused row at line. When the
// row's partner could not be read, every order with its PO number is held
// back; when its PO number could not be read, every order of its partner;
// when neither, the whole file: the row could belong to any of them.
func (b *builder) hold(key poKey, line int) {
	if key.partner == "" && key.poNumber == "" {
		b.untie(line)
		return
	}
	if b.held == nil {
		b.held = map[poKey]int{}
	}
	if _, ok := b.held[key]; !ok {
		b.held[key] = line
	}
}

// heldAt returns the line of the refused row that holds back the order
// of key, if any: its own, or one whose partner or PO number is unknown.
func (b *builder) heldAt(key poKey) (int, bool) {
	for _, k := range []poKey{key, {partner: key.partner}, {poNumber: key.poNumber}} {
		if line, ok := b.held[k]; ok {
			return line, true
		}
	}
	return 0, false
}

// untie notes a row that cannot be read as a row (a CSV syntax error, the
// wrong number of fields, a line that is not a JSON object): it may
// belong to any order, so no order of the file is imported.
func (b *builder) untie(line int) {
	if b.untied == 0 {
		b.untied = line
	}
}

// result drops the orders held back, each with a problem that says so.
func (b *builder) result() ([]gateway.Order, []error) {
	if b.untied > 0 && len(b.orders) > 0 {
		b.problems = append(b.problems, &RowError{File: b.file, Line: b.untied, Err: fmt.Errorf(
			"%w: the row at this line cannot be read, so it could belong to any purchase order: none of the file's %d is imported; fix the file and export it again",
			ErrHeldBack, len(b.orders))})
		return nil, b.problems
	}
	if len(b.held) == 0 {
		return b.orders, b.problems
	}
	kept := b.orders[:0:0]
	for _, o := range b.orders {
		if line, ok := b.heldAt(poKey{o.Partner, o.PONumber}); ok {
			b.problems = append(b.problems, &RowError{File: b.file, Line: line, Err: fmt.Errorf(
				"%w: PO %s of %s is not imported from this file, so that it keeps all its lines; fix the row and export it again",
				ErrHeldBack, o.PONumber, o.Partner)})
			continue
		}
		kept = append(kept, o)
	}
	return kept, b.problems
}

// newOrder starts the order of key and returns its position.
func (b *builder) newOrder(key poKey) int {
	b.orders = append(b.orders, gateway.Order{
		ID:       gateway.OrderID(key.partner, key.poNumber),
		Partner:  key.partner,
		PONumber: key.poNumber,
		Source:   b.file,
	})
	b.po = append(b.po, poState{lines: map[string]int{}})
	b.index[key] = len(b.orders) - 1
	return len(b.orders) - 1
}

// conflicts checks a row against the earlier rows of its order: a line
// number seen before, or a different PO date.
func (b *builder) conflicts(i int, cells *[numFields]cell, vals *[numFields]string) []error {
	o, st := &b.orders[i], &b.po[i]
	var errs []error
	if first, dup := st.lines[vals[fieldLineNumber]]; dup {
		errs = append(errs, b.rowError(cells[fieldLineNumber], fmt.Errorf("%w %q in PO %s (first at line %d)",
			ErrDuplicateLine, vals[fieldLineNumber], o.PONumber, first)))
	}
	if date := vals[fieldPODate]; date != "" && o.PODate != "" && date != o.PODate {
		errs = append(errs, b.rowError(cells[fieldPODate], fmt.Errorf("%w: %s, not %s (line %d)",
			ErrPODate, date, o.PODate, st.dateLine)))
	}
	return errs
}

// addLine appends a checked row to order i. A row without a PO date
// takes the order's; the first row with one sets it.
func (b *builder) addLine(i, line int, vals *[numFields]string) {
	o, st := &b.orders[i], &b.po[i]
	if o.PODate == "" && vals[fieldPODate] != "" {
		o.PODate, st.dateLine = vals[fieldPODate], line
	}
	st.lines[vals[fieldLineNumber]] = line
	o.Lines = append(o.Lines, gateway.OrderLine{
		LineNumber:    vals[fieldLineNumber],
		BuyerItem:     vals[fieldBuyerItem],
		VendorItem:    vals[fieldVendorItem],
		Quantity:      vals[fieldQuantity],
		UOM:           vals[fieldUOM],
		UnitPrice:     vals[fieldUnitPrice],
		RequestedDate: vals[fieldRequestedDate],
	})
}
