package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edigate/edigate/gateway/translate"
)

// Config is everything `edigate serve` needs. Defaults work with no file;
// a YAML file overrides them and environment variables override the file.
type Config struct {
	// DataDir holds the database, the payload archive, the SFTP folders,
	// the SSH host key and the AS2 identity ($EDIGATE_DATA).
	DataDir string `yaml:"data_dir"`
	// PartnersDir holds one YAML file per partner ($EDIGATE_PARTNERS).
	PartnersDir string `yaml:"partners_dir"`
	// MappingsDir holds partner mappings; default: beside PartnersDir
	// ($EDIGATE_MAPPINGS).
	MappingsDir string `yaml:"mappings_dir"`
	HTTPAddr    string `yaml:"http_addr"` // $EDIGATE_HTTP_ADDR, default :8080
	SFTPAddr    string `yaml:"sftp_addr"` // $EDIGATE_SFTP_ADDR, default :2222
	// AS2ID is our AS2 name ($EDIGATE_AS2_ID, default EDIGATE).
	AS2ID string `yaml:"as2_id"`
	// ISAID is our interchange id as QUAL:ID ($EDIGATE_ISA_ID, default ZZ:EDIGATE).
	ISAID string `yaml:"isa_id"`
	// GSID is our application code in GS02/GS03 (default: the ISA id).
	GSID string `yaml:"gs_id"`
	// LogFormat is text or json ($EDIGATE_LOG_FORMAT).
	LogFormat string `yaml:"log_format"`
	// MaxUpload bounds one received file, as 100MB ($EDIGATE_MAX_UPLOAD).
	MaxUpload string `yaml:"max_upload"`
	// ERP is where purchase orders come from and decisions go to.
	ERP ERPConfig `yaml:"erp"`
	// ReportDir holds the nightly reports (default <data_dir>/reports).
	ReportDir string `yaml:"report_dir"`
	// Schedules are cron expressions (five fields, or descriptors such as
	// @hourly and @every 1m) for the jobs.
	Schedules Schedules `yaml:"schedules"`
}

// ERPConfig configures the ERP connector.
type ERPConfig struct {
	// URL names the connector ($EDIGATE_ERP_URL): file:///path/to/inbox
	// watches a folder for exports (default: file://<data_dir>/erp/inbox).
	URL string `yaml:"url"`
	// Outbox receives the buyers' decisions for the ERP to import
	// (default <data_dir>/erp/outbox).
	Outbox string `yaml:"outbox"`
	// Mapping is a YAML file mapping the export's columns to ours; none
	// means the default columns.
	Mapping string `yaml:"mapping"`
}

// Schedules of the gateway's jobs.
type Schedules struct {
	// Reconcile: full reconciliation passes, SLA checks included
	// (default hourly).
	Reconcile []string `yaml:"reconcile"`
	// Report: the nightly report, of the previous day.
	Report string `yaml:"report"`
	// ERPPull: looking for ERP exports.
	ERPPull string `yaml:"erp_pull"`
	// Outbound: sending 850s again that a transport refused, and
	// exporting decisions (default, and when empty, every minute).
	Outbound string `yaml:"outbound"`
}

// erpInbox is the folder a file:// ERP URL names.
func (c Config) erpInbox() (string, error) {
	u := c.ERP.URL
	if u == "" {
		return filepath.Join(c.DataDir, "erp", "inbox"), nil
	}
	if p, ok := strings.CutPrefix(u, "file://"); ok && p != "" {
		return p, nil
	}
	return "", fmt.Errorf("erp.url %q: only file:// connectors are built in so far (REST and Tryton connectors come later)", u)
}

func (c Config) erpOutbox() string {
	if c.ERP.Outbox != "" {
		return c.ERP.Outbox
	}
	return filepath.Join(c.DataDir, "erp", "outbox")
}

func (c Config) reportDir() string {
	if c.ReportDir != "" {
		return c.ReportDir
	}
	return filepath.Join(c.DataDir, "reports")
}

// DefaultConfig is the configuration with no file and no environment.
func DefaultConfig() Config {
	return Config{
		DataDir: "data", PartnersDir: "partners", HTTPAddr: ":8080", SFTPAddr: ":2222",
		AS2ID: "EDIGATE", ISAID: "ZZ:EDIGATE", LogFormat: "text", MaxUpload: "100MB",
		Schedules: Schedules{
			Reconcile: []string{"@hourly"},
			Report:    "30 2 * * *",
			ERPPull:   "@every 1m",
			Outbound:  "@every 1m",
		},
	}
}

// LoadConfig reads a YAML file (strictly: unknown keys are errors) over the
// defaults, then applies the environment.
func LoadConfig(file string, getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s: %w", file, err)
		}
	}
	for name, field := range map[string]*string{
		"EDIGATE_DATA": &c.DataDir, "EDIGATE_PARTNERS": &c.PartnersDir, "EDIGATE_MAPPINGS": &c.MappingsDir,
		"EDIGATE_HTTP_ADDR": &c.HTTPAddr, "EDIGATE_SFTP_ADDR": &c.SFTPAddr, "EDIGATE_AS2_ID": &c.AS2ID,
		"EDIGATE_ISA_ID": &c.ISAID, "EDIGATE_GS_ID": &c.GSID, "EDIGATE_LOG_FORMAT": &c.LogFormat,
		"EDIGATE_MAX_UPLOAD": &c.MaxUpload, "EDIGATE_ERP_URL": &c.ERP.URL,
	} {
		if v := getenv(name); v != "" {
			*field = v
		}
	}
	if c.MappingsDir == "" {
		c.MappingsDir = filepath.Join(filepath.Dir(filepath.Clean(c.PartnersDir)), "mappings")
	}
	return c, c.Validate()
}

// Validate checks values that can be checked without starting anything.
func (c Config) Validate() error {
	var problems []string
	if c.DataDir == "" {
		problems = append(problems, "data_dir is empty")
	}
	if _, _, err := translate.Identity(c.ISAID); err != nil {
		problems = append(problems, "isa_id: "+err.Error())
	}
	if c.AS2ID == "" || len(c.AS2ID) > 128 || strings.ContainsAny(c.AS2ID, "\r\n") {
		problems = append(problems, fmt.Sprintf("as2_id %q is not a valid AS2 name", c.AS2ID))
	}
	if _, err := c.erpInbox(); err != nil {
		problems = append(problems, err.Error())
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("log_format %q is not text or json", c.LogFormat))
	}
	if len(problems) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return nil
}
