// Package partners loads and checks trading-partner definitions: one YAML
// file per partner in a partners folder (partners/<id>.yaml), with the
// partner's sample files beside it in partners/<id>/samples/.
package partners

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edigate/edigate/translators/x12"
)

// Partner is one trading partner. Every field is documented where it is
// declared; the YAML keys are the names in the tags.
type Partner struct {
	// ID names the partner everywhere (logs, API, SFTP login); it must
	// equal the file name without .yaml.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// X12 says who the partner is in interchanges and how to write to it.
	X12 X12 `yaml:"x12"`
	// Mappings names, per transaction set, the mapping file to use
	// (relative to the mappings folder). Sets not named use
	// mappings/<id>/<set>-<version>.yaml when it exists, else the default.
	Mappings   map[string]string `yaml:"mappings"`
	Transports Transports        `yaml:"transports"`
	SLA        SLA               `yaml:"sla"`
	Tolerances Tolerances        `yaml:"tolerances"`

	// File is where the partner was loaded from; Dir is its folder.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`

	root *yaml.Node
}

// X12 holds the partner's interchange identity and preferences.
type X12 struct {
	// ISA is the partner's interchange ID as QUALIFIER:ID ("ZZ:ACMESUPPLY").
	ISA string `yaml:"isa"`
	// GS is the partner's application code (GS02 inbound, GS03 outbound);
	// defaults to the ISA ID.
	GS string `yaml:"gs"`
	// Version is the X12 version the partner uses (004010, 005010).
	Version string `yaml:"version"`
	// Test makes what we write carry ISA15 = T.
	Test bool `yaml:"test"`
	// Delimiters for what we write to the partner; X12 defaults otherwise.
	Delimiters Delimiters `yaml:"delimiters"`
	// Acknowledgement is what we send back and expect.
	Acknowledgement Acknowledgement `yaml:"acknowledgement"`
}

// Delimiters of outbound interchanges; each a single character.
type Delimiters struct {
	Element    string `yaml:"element"`    // default *
	Component  string `yaml:"component"`  // default :  (ISA16)
	Segment    string `yaml:"segment"`    // default ~
	Repetition string `yaml:"repetition"` // default ^ in 00501+, none before
	// Newline after each segment terminator (default true).
	Newline *bool `yaml:"newline"`
}

// Acknowledgement preferences.
type Acknowledgement struct {
	// Type is 997 or 999; empty chooses by version (997 for 004010, 999 for 005010).
	Type string `yaml:"type"`
	// TA1 sends a TA1 with every acknowledgement, not only when asked.
	TA1 bool `yaml:"ta1"`
	// ExpectWithin is how long the partner has to acknowledge our
	// interchanges with a 997/999 (e.g. "4h").
	ExpectWithin string `yaml:"expect_within"`
}

// Transports are the ways files travel to and from the partner.
type Transports struct {
	SFTP *SFTP `yaml:"sftp"`
	AS2  *AS2  `yaml:"as2"`
}

// SFTP configures the partner's account on our SFTP server, and optionally
// pulling from / pushing to the partner's own server.
type SFTP struct {
	// Username to log in to our server; defaults to the partner ID.
	Username string `yaml:"username"`
	// PublicKeys in authorized_keys format.
	PublicKeys []string `yaml:"public_keys"`
	// PasswordBcrypt, if set, allows password login (bcrypt hash).
	PasswordBcrypt string `yaml:"password_bcrypt"`
	MaxFileSize    string `yaml:"max_file_size"` // e.g. "50MB"; default 100MB
	MaxSessions    int    `yaml:"max_sessions"`  // default 4
	Pull           *Pull  `yaml:"pull"`
	Push           *Push  `yaml:"push"`
}

// Pull fetches files from the partner's SFTP server on a schedule.
type Pull struct {
	Address    string `yaml:"address"` // host:port
	Username   string `yaml:"username"`
	PrivateKey string `yaml:"private_key"` // file, relative to the partners folder
	HostKey    string `yaml:"host_key"`    // the server's public key (known_hosts line)
	RemoteDir  string `yaml:"remote_dir"`
	Schedule   string `yaml:"schedule"` // cron expression
	After      string `yaml:"after"`    // delete or move
	MoveTo     string `yaml:"move_to"`
}

// Push delivers our files to the partner's SFTP server (the pull's
// address and credentials) instead of our outbound folder.
type Push struct {
	RemoteDir string `yaml:"remote_dir"`
}

// AS2 configures message exchange with the partner over AS2 (RFC 4130).
type AS2 struct {
	ID          string `yaml:"id"`          // the partner's AS2 name (AS2-From when it sends)
	URL         string `yaml:"url"`         // where we post to the partner
	Certificate string `yaml:"certificate"` // the partner's certificate (PEM), relative to the partners folder
	Sign        string `yaml:"sign"`        // sha1, sha256, sha384, sha512 or none
	Encrypt     string `yaml:"encrypt"`     // aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm, 3des or none
	Compress    bool   `yaml:"compress"`
	MDN         MDN    `yaml:"mdn"`
	// RequireSigned / RequireEncrypted refuse inbound messages without.
	RequireSigned    bool `yaml:"require_signed"`
	RequireEncrypted bool `yaml:"require_encrypted"`
	// Leniencies are named departures from RFC 4130 accepted from (or
	// made for) this partner's AS2 software, each logged when used:
	// "libas2-mdn-crlf" (its signed MDNs are signed over one CRLF fewer
	// than sent) and "base64-body" (it reads our body as base64 text).
	Leniencies []string `yaml:"leniencies"`
}

// AS2Leniencies are the names transports.as2.leniencies accepts.
var AS2Leniencies = []string{"libas2-mdn-crlf", "base64-body"}

// MDN is how receipts are asked for.
type MDN struct {
	Mode   string `yaml:"mode"` // sync, async or none
	Signed bool   `yaml:"signed"`
}

// SLA holds the partner's service levels.
type SLA struct {
	// POAckWithin: an 855 is due this long after our 850 (e.g. "24h").
	POAckWithin string `yaml:"po_ack_within"`
	// ShipNoticeBy: "requested_date" (an 856 is due by the PO's requested
	// delivery date) or a duration after the 855.
	ShipNoticeBy string `yaml:"ship_notice_by"`
	// Retry of processing steps before a message is dead-lettered.
	Retry Retry `yaml:"retry"`
}

// Retry policy.
type Retry struct {
	Attempts int    `yaml:"attempts"` // default 5
	Backoff  string `yaml:"backoff"`  // first delay, doubled each time; default "30s"
}

// Tolerances for reconciliation.
type Tolerances struct {
	PricePercent     string `yaml:"price_percent"`     // e.g. "0.5" (%)
	PriceAbsolute    string `yaml:"price_absolute"`    // e.g. "0.01"
	QuantityAbsolute string `yaml:"quantity_absolute"` // e.g. "0"
	DateDays         int    `yaml:"date_days"`
}

// CheckError is a problem in a partner file, with its position.
type CheckError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *CheckError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidID reports whether id is a partner id: lower-case letters, digits,
// "-" and "_", starting with a letter or digit, at most 63 characters.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Load reads one partner file, decoding strictly (unknown keys are errors)
// and checking every value that can be checked without other files.
func Load(file string) (*Partner, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse is Load on bytes already read.
func Parse(file string, data []byte) (*Partner, error) {
	p := &Partner{File: file, Dir: filepath.Dir(file)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, yamlErr(file, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil && len(root.Content) > 0 {
		p.root = root.Content[0]
	}
	var errs []error
	bad := func(path string, format string, args ...any) {
		line, col := p.position(path)
		errs = append(errs, &CheckError{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
	}
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	switch {
	case p.ID == "":
		bad("id", "id is missing")
	case !idPattern.MatchString(p.ID):
		bad("id", "id %q must be lowercase letters, digits, - and _", p.ID)
	case p.ID != base:
		bad("id", "id %q does not match the file name %q", p.ID, base)
	}
	if _, _, err := p.ISA(); err != nil {
		bad("x12.isa", "%v", err)
	}
	if v := p.X12.Version; v == "" {
		bad("x12.version", "x12.version is missing (004010 or 005010)")
	} else if len(v) < 6 || !allDigits(v[:6]) {
		bad("x12.version", "x12.version %q is not an X12 version such as 004010", v)
	}
	if t := p.X12.Acknowledgement.Type; t != "" && t != "997" && t != "999" {
		bad("x12.acknowledgement.type", "acknowledgement type %q is not 997 or 999", t)
	}
	checkDuration := func(path, v string) {
		if v != "" {
			if _, err := time.ParseDuration(v); err != nil {
				bad(path, "%q is not a duration such as 4h or 30m", v)
			}
		}
	}
	checkDuration("x12.acknowledgement.expect_within", p.X12.Acknowledgement.ExpectWithin)
	checkDuration("sla.po_ack_within", p.SLA.POAckWithin)
	checkDuration("sla.retry.backoff", p.SLA.Retry.Backoff)
	if s := p.SLA.ShipNoticeBy; s != "" && s != "requested_date" {
		checkDuration("sla.ship_notice_by", s)
	}
	d := p.X12.Delimiters
	for _, f := range []struct{ path, v string }{{"x12.delimiters.element", d.Element}, {"x12.delimiters.component", d.Component}, {"x12.delimiters.segment", d.Segment}, {"x12.delimiters.repetition", d.Repetition}} {
		if len(f.v) > 1 || f.v != "" && (isAlnum(f.v[0]) || f.v[0] == ' ') {
			bad(f.path, "delimiter %q must be one character that is not a letter, digit or space", f.v)
		}
	}
	if _, err := p.OutboundDelimiters(); err != nil {
		bad("x12.delimiters", "%v", err)
	}
	for set := range p.Mappings {
		if len(set) != 3 || !allDigits(set) {
			bad("mappings", "%q is not a transaction set number such as 855", set)
		}
	}
	for name, v := range map[string]string{"tolerances.price_percent": p.Tolerances.PricePercent, "tolerances.price_absolute": p.Tolerances.PriceAbsolute, "tolerances.quantity_absolute": p.Tolerances.QuantityAbsolute} {
		if v != "" {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				bad(name, "%q is not a number", v)
			}
		}
	}
	if s := p.Transports.SFTP; s != nil {
		for i, k := range s.PublicKeys {
			if err := checkAuthorizedKey(k); err != nil {
				bad("transports.sftp.public_keys", "key %d: %v", i+1, err)
			}
		}
		if s.MaxFileSize != "" {
			if _, err := ParseSize(s.MaxFileSize); err != nil {
				bad("transports.sftp.max_file_size", "%v", err)
			}
		}
		if pl := s.Pull; pl != nil {
			if pl.Address == "" || pl.RemoteDir == "" || pl.Schedule == "" {
				bad("transports.sftp.pull", "a pull needs address, remote_dir and schedule")
			}
			if pl.After != "" && pl.After != "delete" && pl.After != "move" {
				bad("transports.sftp.pull.after", "after is delete or move, not %q", pl.After)
			}
			if pl.After == "move" && pl.MoveTo == "" {
				bad("transports.sftp.pull.move_to", "after: move needs move_to")
			}
		}
	}
	if a := p.Transports.AS2; a != nil {
		if a.ID == "" {
			bad("transports.as2.id", "an AS2 partner needs its AS2 id")
		}
		if !contains([]string{"", "none", "sha1", "sha256", "sha384", "sha512"}, a.Sign) {
			bad("transports.as2.sign", "sign %q is not sha1, sha256, sha384, sha512 or none", a.Sign)
		}
		if !contains([]string{"", "none", "aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm", "3des"}, a.Encrypt) {
			bad("transports.as2.encrypt", "encrypt %q is not aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm, 3des or none", a.Encrypt)
		}
		if !contains([]string{"", "sync", "async", "none"}, a.MDN.Mode) {
			bad("transports.as2.mdn.mode", "mdn mode %q is not sync, async or none", a.MDN.Mode)
		}
		for _, l := range a.Leniencies {
			if !contains(AS2Leniencies, l) {
				bad("transports.as2.leniencies", "leniency %q is not one of %s", l, strings.Join(AS2Leniencies, ", "))
			}
		}
		if a.Certificate != "" {
			if _, err := os.Stat(p.Path(a.Certificate)); err != nil {
				bad("transports.as2.certificate", "certificate %s: %v", a.Certificate, err)
			}
		}
	}
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	return p, nil
}

func yamlErr(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, e := strconv.Atoi(rest[:j]); e == nil {
			msg = strings.TrimPrefix(strings.TrimSpace(rest[j:]), ":")
			msg = strings.ReplaceAll(msg, "in type partners.", "in ")
			return &CheckError{File: file, Line: n, Col: 1, Msg: strings.TrimSpace(msg)}
		}
	}
	return &CheckError{File: file, Msg: msg}
}

// position finds the line and column of a dotted key path in the file.
func (p *Partner) position(path string) (int, int) {
	n := p.root
	if n == nil {
		return 0, 0
	}
	line, col := n.Line, n.Column
	for _, key := range strings.Split(path, ".") {
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, col = n.Content[i].Line, n.Content[i].Column
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return line, col
}

// Path resolves a file named in the partner YAML (relative to its folder).
func (p *Partner) Path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(p.Dir, name)
}

// ISA returns the partner's interchange qualifier and ID.
func (p *Partner) ISA() (qual, id string, err error) {
	q, i, ok := strings.Cut(p.X12.ISA, ":")
	if !ok || len(q) != 2 || i == "" || len(i) > 15 {
		return "", "", fmt.Errorf("x12.isa %q is not QUALIFIER:ID, such as ZZ:ACMESUPPLY (a 2-character qualifier and an ID of at most 15 characters)", p.X12.ISA)
	}
	return q, i, nil
}

// GSCode returns the partner's application code for GS02/GS03.
func (p *Partner) GSCode() string {
	if p.X12.GS != "" {
		return p.X12.GS
	}
	_, id, _ := p.ISA()
	return id
}

// SFTPUser returns the login name on our SFTP server.
func (p *Partner) SFTPUser() string {
	if s := p.Transports.SFTP; s != nil && s.Username != "" {
		return s.Username
	}
	return p.ID
}

// AckType returns 997 or 999 for a version, honouring the partner's choice.
func (p *Partner) AckType(version string) string {
	if t := p.X12.Acknowledgement.Type; t != "" {
		return t
	}
	if version >= "005" {
		return "999"
	}
	return "997"
}

// ParseSize reads sizes such as 100MB, 512KB or 1GB.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q is not a size such as 100MB", s)
	}
	return n * mult, nil
}

func checkAuthorizedKey(k string) error {
	f := strings.Fields(k)
	if len(f) < 2 {
		return errors.New("not an authorized_keys line (TYPE BASE64 [COMMENT])")
	}
	if !strings.HasPrefix(f[0], "ssh-") && !strings.HasPrefix(f[0], "ecdsa-") {
		return fmt.Errorf("key type %q is not ssh-ed25519, ssh-rsa or ecdsa-…", f[0])
	}
	if _, err := base64.StdEncoding.DecodeString(f[1]); err != nil {
		return errors.New("the key is not base64")
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Directory is every partner in a partners folder.
type Directory struct {
	Dir      string
	Partners []*Partner
	byID     map[string]*Partner
}

// LoadDir loads every *.yaml in dir. It returns the partners that loaded
// and an error listing every file that did not.
func LoadDir(dir string) (*Directory, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	d := &Directory{Dir: dir, byID: map[string]*Partner{}}
	var errs []error
	isas := map[string]string{}
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q, id, _ := p.ISA()
		key := q + ":" + id
		if other, dup := isas[key]; dup {
			errs = append(errs, &CheckError{File: f, Msg: fmt.Sprintf("x12.isa %s is also partner %s's", key, other)})
			continue
		}
		isas[key] = p.ID
		d.Partners = append(d.Partners, p)
		d.byID[p.ID] = p
	}
	return d, errors.Join(errs...)
}

// ByID returns a partner by ID.
func (d *Directory) ByID(id string) (*Partner, bool) {
	p, ok := d.byID[id]
	return p, ok
}

// ErrUnknownPartner is returned when no partner matches an interchange.
var ErrUnknownPartner = errors.New("unknown partner")

// FindSender returns the partner that sent an interchange: ISA05/ISA06
// must match the partner's x12.isa, and when gs is given and the partner
// sets x12.gs, GS02 must match it too.
func (d *Directory) FindSender(qual, id, gs string) (*Partner, error) {
	qual, id = strings.TrimSpace(qual), strings.TrimSpace(id)
	for _, p := range d.Partners {
		q, i, _ := p.ISA()
		if q == qual && i == id {
			if gs != "" && p.X12.GS != "" && p.X12.GS != strings.TrimSpace(gs) {
				return nil, fmt.Errorf("%w: interchange sender %s:%s is partner %s, but GS02 %q is not its application code %q", ErrUnknownPartner, qual, id, p.ID, gs, p.X12.GS)
			}
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: no partner in %s has x12.isa %s:%s", ErrUnknownPartner, d.Dir, qual, id)
}

// OutboundDelimiters returns the delimiters for interchanges we write to
// the partner: its settings over the X12 defaults (* : ~ and a newline; ^
// as repetition separator from 00501 on).
func (p *Partner) OutboundDelimiters() (x12.Delimiters, error) {
	d := x12.Delimiters{Element: '*', Component: ':', Segment: "~", Suffix: "\n"}
	if p.X12.Version >= "005" {
		d.Repetition = '^'
	}
	c := p.X12.Delimiters
	if c.Element != "" {
		d.Element = c.Element[0]
	}
	if c.Component != "" {
		d.Component = c.Component[0]
	}
	if c.Segment != "" {
		d.Segment = c.Segment
	}
	if c.Repetition != "" {
		d.Repetition = c.Repetition[0]
	}
	if c.Newline != nil && !*c.Newline {
		d.Suffix = ""
	}
	seen := map[byte]bool{}
	for _, b := range []byte{d.Element, d.Component, d.Segment[0], d.Repetition} {
		if b == 0 {
			continue
		}
		if seen[b] {
			return d, fmt.Errorf("delimiters must differ from each other; %q is used twice", b)
		}
		seen[b] = true
	}
	return d, nil
}
