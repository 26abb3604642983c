// Package mappings finds and loads mapping files: the defaults shipped in
// default/ (embedded in the binary) and the partner mappings in a mappings
// folder on disk, each partner's in its own subfolder, which extend a
// default and override only what differs.
package mappings

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edigate/edigate/translators/mapping"
	"github.com/edigate/edigate/translators/x12"
)

//go:embed default/*.yaml
var defaults embed.FS

// Library resolves mapping files. Paths are slash-separated and relative
// to Dir ("default/850-004010.yaml", "acme/855-004010.yaml"); files under
// default/ come from the binary unless Dir has its own copy.
type Library struct {
	Dir      string // the mappings folder on disk; "" for the built-in defaults only
	Registry *x12.Registry
}

// DefaultName is the path of the default mapping for a set and version.
func DefaultName(set, version string) string {
	return "default/" + set + "-" + baseVersion(version) + ".yaml"
}

func baseVersion(v string) string {
	if len(v) > 6 {
		return v[:6]
	}
	return v
}

// read returns a mapping file's bytes and the name to show in errors.
func (l *Library) read(name string) ([]byte, string, error) {
	name = path.Clean(name)
	if strings.HasPrefix(name, "../") || path.IsAbs(name) {
		return nil, name, fmt.Errorf("mapping %q is outside the mappings folder", name)
	}
	if l.Dir != "" {
		p := filepath.Join(l.Dir, filepath.FromSlash(name))
		b, err := os.ReadFile(p)
		if err == nil {
			return b, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(name, "default/") {
			return nil, p, err
		}
	}
	b, err := defaults.ReadFile(name)
	if err != nil {
		return nil, "mappings/" + name, fmt.Errorf("no mapping file %s", name)
	}
	return b, "mappings/" + name, nil
}

// Exists reports whether a mapping file exists.
func (l *Library) Exists(name string) bool {
	_, _, err := l.read(name)
	return err == nil
}

// Load compiles the mapping file name with the chain of files it extends.
func (l *Library) Load(name string) (*mapping.Spec, error) {
	var chain []mapping.Source
	var order []string
	seen := map[string]bool{}
	for name != "" {
		if seen[name] {
			last := chain[0]
			line, col := extendsPosition(last.Data)
			return nil, &mapping.SpecError{File: last.Name, Line: line, Col: col,
				Msg: fmt.Sprintf("extends %s, which leads back to it: %s -> %s", name, strings.Join(order, " -> "), name)}
		}
		order = append(order, name)
		seen[name] = true
		data, shown, err := l.read(name)
		if err != nil {
			return nil, err
		}
		var head struct {
			Extends string `yaml:"extends"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			// Let the compiler report it with its position.
			head.Extends = ""
		}
		chain = append([]mapping.Source{{Name: shown, Data: data, Dir: path.Dir(name)}}, chain...)
		if ext := head.Extends; ext != "" && !strings.Contains(ext, "/") {
			// A bare file name is a sibling of the extending file.
			name = path.Join(path.Dir(name), ext)
		} else {
			name = ext
		}
	}
	return mapping.Compile(l.Registry, l.readAux, chain...)
}

// readAux reads a file named by a mapping (an item cross-reference),
// relative to the mapping's folder.
func (l *Library) readAux(dir, name string) ([]byte, error) {
	b, _, err := l.read(path.Join(dir, name))
	return b, err
}

// Default compiles the default mapping for a set and version.
func (l *Library) Default(set, version string) (*mapping.Spec, error) {
	return l.Load(DefaultName(set, version))
}

// Defaults lists the default mapping files built in.
func Defaults() []string {
	entries, _ := defaults.ReadDir("default")
	var out []string
	for _, e := range entries {
		out = append(out, "default/"+e.Name())
	}
	return out
}

// Source returns a built-in default mapping's bytes.
func Source(name string) ([]byte, bool) {
	b, err := defaults.ReadFile(name)
	return bytes.Clone(b), err == nil
}

// extendsPosition finds the line and column of a file's extends value.
func extendsPosition(data []byte) (int, int) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 1, 1
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "extends" {
			return m.Content[i+1].Line, m.Content[i+1].Column
		}
	}
	return 1, 1
}
