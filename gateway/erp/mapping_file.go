package erp

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// mappingKeys are the keys a mapping file may have.
var mappingKeys = []string{"columns", "date_format", "decimal_comma", "delimiter", "partners", "constants"}

// LoadMapping reads a Mapping from a YAML file. It is strict: unknown keys,
// unknown field names, duplicate keys and values of the wrong kind are
// errors, each naming the file, line and column. An empty file is the zero
// Mapping.
func LoadMapping(path string) (Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Mapping{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Mapping{}, fmt.Errorf("%s: %w", path, err)
	}
	d := mappingDecoder{file: path, at: map[string][2]*yaml.Node{}}
	m, err := d.decode(&doc)
	if err != nil {
		return Mapping{}, err
	}
	if err := m.Validate(); err != nil {
		return Mapping{}, d.locate(err)
	}
	return m, nil
}

// mappingDecoder decodes a mapping file's nodes, remembering where each
// key is so that Validate's errors can name a line and column.
type mappingDecoder struct {
	file string
	at   map[string][2]*yaml.Node // "columns.qty" → key and value nodes
}

// errorf returns an error naming the file, line and column of n.
func (d mappingDecoder) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", d.file, n.Line, n.Column, fmt.Sprintf(format, args...))
}

// locate prefixes a Validate error with the position of its key.
func (d mappingDecoder) locate(err error) error {
	var ke *keyError
	if !errors.As(err, &ke) {
		return fmt.Errorf("%s: %w", d.file, err)
	}
	nodes, ok := d.at[ke.Key]
	if !ok {
		return fmt.Errorf("%s: %w", d.file, err)
	}
	n := nodes[0]
	if ke.Value {
		n = nodes[1]
	}
	return fmt.Errorf("%s:%d:%d: %w", d.file, n.Line, n.Column, err)
}

// decode turns the document node into a Mapping.
func (d mappingDecoder) decode(doc *yaml.Node) (Mapping, error) {
	var m Mapping
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return m, nil
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return m, nil
	}
	pairs, err := d.pairs(root, "a mapping file")
	if err != nil {
		return m, err
	}
	for _, p := range pairs {
		k, v := p[0], p[1]
		d.at[k.Value] = p
		switch k.Value {
		case "columns":
			m.Columns, err = d.stringMap(k.Value, v)
		case "partners":
			m.Partners, err = d.stringMap(k.Value, v)
		case "constants":
			m.Constants, err = d.stringMap(k.Value, v)
		case "date_format":
			m.DateFormat, err = d.scalar(k.Value, v)
		case "delimiter":
			m.Delimiter, err = d.scalar(k.Value, v)
		case "decimal_comma":
			m.DecimalComma, err = d.bool(k.Value, v)
		default:
			err = d.errorf(k, "unknown key %q (allowed: %s)", k.Value, strings.Join(mappingKeys, ", "))
		}
		if err != nil {
			return Mapping{}, err
		}
	}
	return m, nil
}

// pairs returns the key and value nodes of a YAML mapping, rejecting
// duplicate and non-scalar keys.
func (d mappingDecoder) pairs(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errorf(n, "%s must be a YAML mapping (key: value lines)", what)
	}
	seen := map[string]int{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, d.errorf(k, "keys of %s must be plain values", what)
		}
		if line, dup := seen[k.Value]; dup {
			return nil, d.errorf(k, "duplicate key %q (first at line %d)", k.Value, line)
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

// stringMap decodes a mapping of plain values, such as columns.
func (d mappingDecoder) stringMap(key string, n *yaml.Node) (map[string]string, error) {
	if isNull(n) {
		return nil, nil
	}
	pairs, err := d.pairs(n, key)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		v, err := d.scalar(key+"."+p[0].Value, p[1])
		if err != nil {
			return nil, err
		}
		d.at[key+"."+p[0].Value] = p
		m[p[0].Value] = v
	}
	return m, nil
}

// scalar decodes a plain value; null is the empty string.
func (d mappingDecoder) scalar(key string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errorf(n, "%s must be a plain value, not a list or mapping", key)
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

// bool decodes true or false; null is false.
func (d mappingDecoder) bool(key string, n *yaml.Node) (bool, error) {
	if isNull(n) {
		return false, nil
	}
	if n.Kind != yaml.ScalarNode {
		return false, d.errorf(n, "%s must be true or false, not a list or mapping", key)
	}
	var b bool
	if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, d.errorf(n, "%s must be true or false, got %q", key, n.Value)
	}
	return b, nil
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is YAML's null (~, null or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
