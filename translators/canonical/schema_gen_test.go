package canonical

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite schemas/*.json from the Go types")

// The JSON Schemas in schemas/ are derived from the Go types, so that the
// contract ERP teams build against can never drift from what we emit.
// go test ./translators/canonical -run TestJSONSchemas -update rewrites them.

var (
	decimalPattern = `^-?[0-9]+(\.[0-9]+)?$`
	datePattern    = `^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`
	enums          = map[string][]string{
		"kind":      Kinds(),
		"direction": {Inbound, Outbound},
		"status":    {StatusAccepted, StatusChanged, StatusBackordered, StatusRejected, StatusUnknown},
		"purpose":   {"original", "cancel", "change", "replace", "confirmation", "duplicate", "status", "other"},
		"type":      {"allowance", "charge"},
	}
	decimalFields = map[string]bool{
		"quantity": true, "unit_price": true, "ordered_quantity": true, "ack_quantity": true,
		"ack_unit_price": true, "quantity_shipped": true, "quantity_invoiced": true,
		"total_amount": true, "amount": true,
	}
)

func schemaFor(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaFor(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Struct:
	default:
		panic("unsupported kind " + t.Kind().String())
	}
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" || tag == "" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			s := schemaFor(f.Type)
			switch {
			case decimalFields[name]:
				s["pattern"] = decimalPattern
			case strings.HasSuffix(name, "_date") || name == "ship_date":
				s["pattern"] = datePattern
			}
			if e, ok := enums[name]; ok && f.Type.Kind() == reflect.String {
				s["enum"] = e
			}
			props[name] = s
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func TestJSONSchemas(t *testing.T) {
	for _, kind := range Kinds() {
		doc, err := New(kind)
		if err != nil {
			t.Fatal(err)
		}
		s := schemaFor(reflect.TypeOf(doc))
		s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
		s["$id"] = "https://edigate.dev/schemas/" + kind + ".json"
		s["title"] = kind
		s["properties"].(map[string]any)["kind"].(map[string]any)["const"] = kind
		want, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		path := filepath.Join("schemas", kind+".json")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := JSONSchema(kind)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: go test ./translators/canonical -run TestJSONSchemas -update", path)
		}
	}
}
