// Package sqlite is the embedded gateway.Store: one SQLite database (WAL)
// and a content-addressed archive of raw payloads, both under one data
// directory:
//
//	<dir>/edigate.db                     messages, queue, documents, counters, tokens
//	<dir>/archive/<sha[:2]>/<sha256>     payloads, written once, never changed
//	<dir>/archive/tmp/                   payloads being received
//
// All writes go through one connection; reads use a small pool.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/internal/fsutil"
)

// Compile-time check that *DB is a gateway.Store.
var _ gateway.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

const (
	dbFile      = "edigate.db"
	archiveDir  = "archive"
	tmpDir      = "tmp"
	busyTimeout = 10 * time.Second
	readConns   = 8
	// Temporary payload files older than this are left over from a crash
	// and removed by Open. Younger ones may belong to another process
	// (a CLI command) using the same data directory.
	staleTmp = time.Hour
)

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	dir     string
	archive string
	write   *sql.DB // one connection: every write transaction
	read    *sql.DB // pool of query-only connections
	now     func() time.Time
	log     *slog.Logger
}

// Option configures Open.
type Option func(*DB)

// WithNow sets the clock used for received_at, updated_at and created_at.
func WithNow(now func() time.Time) Option { return func(d *DB) { d.now = now } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(d *DB) { d.log = l } }

// Open opens (creating if needed) the store in the data directory dir and
// brings its schema up to date.
func Open(dir string, opts ...Option) (*DB, error) {
	d := &DB{
		dir:     dir,
		archive: filepath.Join(dir, archiveDir),
		now:     time.Now,
		log:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(d)
	}
	if err := os.MkdirAll(filepath.Join(d.archive, tmpDir), 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	// Make the directories themselves durable before anything is put in them.
	for _, p := range []string{d.archive, dir} {
		if err := fsutil.SyncDir(p); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	d.removeStaleTmp()

	registerDrivers()
	path := filepath.Join(dir, dbFile)
	var err error
	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so another process writing the same file makes us wait (busy_timeout)
	// instead of failing halfway through.
	if d.write, err = sql.Open(writeDriver, dsn(path, "_txlock=immediate")); err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	d.write.SetMaxOpenConns(1)
	d.write.SetMaxIdleConns(1)
	d.write.SetConnMaxLifetime(0)
	d.write.SetConnMaxIdleTime(0)
	if err := d.migrate(context.Background()); err != nil {
		_ = d.write.Close()
		return nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	if d.read, err = sql.Open(readDriver, dsn(path, "")); err != nil {
		_ = d.write.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	d.read.SetMaxOpenConns(readConns)
	d.read.SetMaxIdleConns(readConns)
	if err := d.read.Ping(); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database. Payloads already received stay on disk.
func (d *DB) Close() error {
	var errs []error
	if d.read != nil {
		errs = append(errs, d.read.Close())
	}
	if d.write != nil {
		errs = append(errs, d.write.Close())
	}
	return errors.Join(errs...)
}

// Driver names: go-sqlite3 with setPragmas run on every new connection.
// Registering a driver is the only way to run a hook on every connection
// of a database/sql pool; the drivers hold no configuration.
const (
	writeDriver = "sqlite3_edigate"
	readDriver  = "sqlite3_edigate_query_only"
)

var registerOnce sync.Once

func registerDrivers() {
	registerOnce.Do(func() {
		sql.Register(writeDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			return setPragmas(c, false)
		}})
		sql.Register(readDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			return setPragmas(c, true)
		}})
	})
}

// dsn builds a go-sqlite3 data source name. Pragmas are not passed in
// it; setPragmas sets them.
func dsn(path, query string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: query}
	return u.String()
}

// setPragmas configures a connection. busy_timeout comes first so that
// the others wait for a lock instead of failing; journal_mode=WAL lets
// readers run beside the writer; synchronous=FULL makes every commit
// durable (fsync of the WAL) before it returns, which Receive's promise
// needs; foreign_keys is off by default in SQLite.
func setPragmas(c *sqlite3.SQLiteConn, queryOnly bool) error {
	pragmas := []string{
		fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds()),
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = FULL",
		"PRAGMA foreign_keys = ON",
	}
	if queryOnly {
		pragmas = append(pragmas, "PRAGMA query_only = ON")
	}
	for _, p := range pragmas {
		if _, err := c.Exec(p, nil); err != nil {
			return fmt.Errorf("setting %q: %w", p, err)
		}
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, in name order, each in its own transaction.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := d.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("applying %s: %w", name, err)
		}
	}
	return nil
}

func (d *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	base := filepath.Base(name)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	b, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(b)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, formatTime(d.now())); err != nil {
		return err
	}
	return tx.Commit()
}

// removeStaleTmp deletes payload files a crashed Receive left behind.
func (d *DB) removeStaleTmp() {
	dir := filepath.Join(d.archive, tmpDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleTmp {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			d.log.Info("removed stale temporary payload", "file", e.Name())
		}
	}
}

// timeLayout sorts as a string: always UTC, always nine fraction digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime is NULL for the zero time.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// newID returns prefix followed by 20 random hex characters.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return prefix + hex.EncodeToString(b[:])
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func limitOffset(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 100
	}
	if offset < 0 {
		offset = 0
	}
	return limit, offset
}

// isConstraint reports a SQLite constraint violation.
func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}
