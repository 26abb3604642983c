package erp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// readJSONLines reads a JSON lines export: one object per line, keyed by
// column. Blank lines are skipped. A first line that is not a JSON object
// means the file is not JSON lines at all; a later one is a bad row.
func (b *builder) readJSONLines(r *bufio.Reader) error {
	seen := false
	for line := 1; ; line++ {
		raw, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", b.file, err)
		}
		if text := bytes.TrimSpace(raw); len(text) > 0 {
			obj, perr := decodeObject(text)
			switch {
			case perr != nil && !seen:
				return &FileError{File: b.file, Line: line, Err: fmt.Errorf("not JSON lines: %w", perr)}
			case perr != nil:
				b.problems = append(b.problems, &RowError{File: b.file, Line: line, Err: perr})
				b.untie(line)
			default:
				b.addJSON(line, obj)
			}
			seen = true
		}
		if err == io.EOF {
			return nil
		}
	}
}

// decodeObject decodes one line holding one JSON object, keeping numbers
// as their literal text.
func decodeObject(text []byte) (map[string]any, error) {
	if text[0] != '{' {
		return nil, fmt.Errorf("%w: starts with %q", ErrNotObject, text[0])
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one value on the line", ErrNotObject)
	}
	return obj, nil
}

// addJSON turns a JSON object into cells and adds it. A missing key or
// null is an empty value.
func (b *builder) addJSON(line int, obj map[string]any) {
	var cells [numFields]cell
	for f := range numFields {
		if c, ok := b.constantCell(f, line); ok {
			cells[f] = c
			continue
		}
		c := cell{column: b.spec.columns[f], line: line}
		switch v := obj[c.column].(type) {
		case nil:
		case string:
			c.value = v
		case json.Number:
			c.value, c.number = string(v), true
		default:
			c.err = fmt.Errorf("%w, got %s", ErrNotScalar, jsonKind(v))
		}
		cells[f] = c
	}
	b.add(line, &cells)
}

// jsonKind names the kind of a decoded JSON value that is not a string or
// number.
func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "true or false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
