package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/as2"
	"github.com/edigate/edigate/gateway/console"
	"github.com/edigate/edigate/gateway/intake"
	"github.com/edigate/edigate/gateway/purchasing"
	"github.com/edigate/edigate/gateway/sftp"
	"github.com/edigate/edigate/gateway/sqlite"
	"github.com/edigate/edigate/gateway/translate"
	"github.com/edigate/edigate/mappings"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/x12"
)

// notifying wraps a store so that every stored message is counted and
// wakes the worker, whichever transport stored it.
type notifying struct {
	gateway.Store
	onReceive func(*gateway.Message)
}

func (n notifying) Receive(ctx context.Context, rc gateway.Receipt, r io.Reader) (*gateway.Message, error) {
	m, err := n.Store.Receive(ctx, rc, r)
	if err == nil {
		n.onReceive(m)
	}
	return m, err
}

// senders picks how acknowledgements and orders reach a partner.
type senders struct {
	as2    *as2.Client
	push   *sftp.Pusher
	outbox *sftp.Outbox
}

func (s senders) For(p *partners.Partner) gateway.Sender {
	t := p.Transports
	switch {
	case t.AS2 != nil && t.AS2.URL != "":
		return s.as2
	case t.SFTP != nil && t.SFTP.Push != nil && t.SFTP.Pull != nil:
		return s.push
	case t.SFTP != nil:
		return s.outbox
	}
	return nil // the partner collects nothing from us
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openStore opens the data directory's store for commands that need it.
func openStore(cfg Config, log *slog.Logger) (*sqlite.DB, error) {
	return sqlite.Open(cfg.DataDir, sqlite.WithLogger(log))
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", os.Getenv("EDIGATE_CONFIG"), "YAML configuration file ($EDIGATE_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := LoadConfig(*configFile, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	log := newLogger(cfg.LogFormat, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error("edigate stopped", "err", err)
		return 1
	}
	return 0
}

// serve runs SFTP, HTTP (AS2, API, health, metrics), the worker and the
// scheduler until ctx is done, then drains and stops.
func serve(ctx context.Context, cfg Config, log *slog.Logger, ready io.Writer) error {
	maxUpload, err := partners.ParseSize(cfg.MaxUpload)
	if err != nil {
		return fmt.Errorf("max_upload: %w", err)
	}
	db, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	// This process owns the data directory: leases left by a crashed
	// process are released instead of waited out.
	if n, err := db.ReleaseLeases(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Warn("released leases of a process that stopped", "messages", n)
	}
	w, err := wire(cfg, db, log)
	if err != nil {
		return err
	}
	dir, tr, identity, client, snd := w.dir, w.tr, w.identity, w.client, w.snd
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pipe := &intake.Pipeline{Store: db, Translator: tr, Logger: log}
	pipe.Init()
	web := &console.Server{Addr: cfg.HTTPAddr, Partners: dir, Logger: log, Registry: metrics, MaxBody: maxUpload}
	store := notifying{Store: db, onReceive: func(m *gateway.Message) {
		web.Counted(m)
		pipe.Wake()
	}}
	web.Store = store
	sftpRoot := filepath.Join(cfg.DataDir, "sftp")
	as2srv := &as2.Server{Identity: identity, Partners: dir, Store: store, Logger: log, MaxBody: maxUpload,
		FailedDir: filepath.Join(cfg.DataDir, "as2", "failed"), MDNReceiver: httpHandlerFunc(client.ReceiveMDN)}
	web.AS2 = as2srv
	pipe.SenderFor = snd.For
	svc, err := newPurchasing(cfg, db, w, log)
	if err != nil {
		return err
	}
	pipe.Arrived = svc.Arrived
	web.Purchasing = &console.Purchasing{Store: db, Documents: db, ReportDir: svc.ReportDir, Decided: func(ctx context.Context) {
		if _, err := svc.ExportDecisions(context.WithoutCancel(ctx)); err != nil {
			log.Error("decisions not exported (retried with the next ERP pull)", "err", err)
		}
	}}
	sftpSrv := &sftp.Server{Addr: cfg.SFTPAddr, DataDir: cfg.DataDir, Root: sftpRoot, Partners: dir, Store: store, Logger: log, MaxFileSize: maxUpload}
	if err := sftpSrv.Start(ctx); err != nil {
		return fmt.Errorf("SFTP: %w", err)
	}
	defer sftpSrv.Close()
	if err := web.Start(); err != nil {
		return err
	}
	client.AsyncURL = "http://" + web.ListenAddr() + "/as2"
	// Scheduled pulls from partners' own SFTP servers.
	// A job still running when its time comes again is skipped, not
	// doubled: an ERP pull archives what it read, a pass clears what it
	// does not find.
	sched := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	puller := &sftp.Puller{Store: store, Logger: log, MaxFileSize: maxUpload}
	for _, p := range dir.Partners {
		if p.Transports.SFTP == nil || p.Transports.SFTP.Pull == nil {
			continue
		}
		p := p
		if _, err := sched.AddFunc(p.Transports.SFTP.Pull.Schedule, func() {
			n, err := puller.PullOnce(ctx, p)
			if err != nil {
				log.Error("sftp pull failed", "partner_id", p.ID, "err", err)
				return
			}
			log.Info("sftp pull", "partner_id", p.ID, "files", n)
		}); err != nil {
			return fmt.Errorf("partner %s: pull schedule %q: %w", p.ID, p.Transports.SFTP.Pull.Schedule, err)
		}
	}
	if err := schedulePurchasing(ctx, sched, cfg, svc, log); err != nil {
		return err
	}
	sched.Start()
	workerDone := make(chan struct{})
	workCtx, stopWork := context.WithCancel(context.Background())
	go func() {
		defer close(workerDone)
		pipe.Run(workCtx)
	}()
	log.Info("edigate serving", "http", web.ListenAddr(), "sftp", sftpSrv.ListenAddr().String(), "data", cfg.DataDir,
		"partners", len(dir.Partners), "as2_id", cfg.AS2ID, "isa_id", cfg.ISAID)
	fmt.Fprintf(ready, "edigate serving http=%s sftp=%s\n", web.ListenAddr(), sftpSrv.ListenAddr())

	<-ctx.Done()
	log.Info("stopping: draining receipts in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	<-sched.Stop().Done()
	web.Shutdown(shutdown) // in-flight uploads and AS2 posts finish
	sftpSrv.Close()        // open uploads are refused, finished ones are stored
	as2srv.Wait()          // async MDNs already owed
	stopWork()
	<-workerDone
	log.Info("stopped")
	return nil
}

// schedulePurchasing adds the reconciliation passes, the nightly report
// and the ERP pull to the scheduler.
func schedulePurchasing(ctx context.Context, sched *cron.Cron, cfg Config, svc *purchasing.Service, log *slog.Logger) error {
	add := func(what, spec string, job func()) error {
		if spec == "" {
			return nil
		}
		if _, err := sched.AddFunc(spec, job); err != nil {
			return fmt.Errorf("schedules.%s %q: %w", what, spec, err)
		}
		return nil
	}
	for _, spec := range cfg.Schedules.Reconcile {
		if err := add("reconcile", spec, func() {
			res, err := svc.Reconcile(ctx, gateway.Scope{All: true})
			if err != nil {
				log.Error("reconciliation failed", "err", err)
				return
			}
			log.Info("reconciliation pass", "raised", res.Raised, "updated", res.Updated, "reopened", res.Reopened, "cleared", res.Cleared)
		}); err != nil {
			return err
		}
	}
	if err := add("report", cfg.Schedules.Report, func() {
		day := svc.Store.Now().UTC().AddDate(0, 0, -1)
		if _, err := svc.Report(ctx, day); err != nil {
			log.Error("nightly report failed", "err", err)
		}
	}); err != nil {
		return err
	}
	if err := add("erp_pull", cfg.Schedules.ERPPull, func() {
		if rep, err := svc.Pull(ctx); err != nil {
			log.Error("erp pull failed", "err", err)
		} else if rep.Created+rep.Changed > 0 || len(rep.Problems) > 0 {
			log.Info("erp pull", "created", rep.Created, "changed", rep.Changed, "unchanged", rep.Unchanged, "sent", len(rep.Sent), "problems", len(rep.Problems))
		}
	}); err != nil {
		return err
	}
	// Not configurable away: without it a refused 850 would never go out
	// and decisions would reach the ERP only when a buyer acts.
	outbound := cfg.Schedules.Outbound
	if outbound == "" {
		outbound = "@every 1m"
	}
	return add("outbound", outbound, func() {
		if _, errs := svc.RetrySends(ctx); len(errs) > 0 {
			log.Error("850s not sent", "errors", len(errs), "first", errs[0])
		}
		if _, err := svc.ExportDecisions(ctx); err != nil {
			log.Error("decisions not exported", "err", err)
		}
	})
}

// wiring is what serve and the purchasing commands build from the
// configuration: partners, the translator, our AS2 identity and the
// transports that carry files to partners.
type wiring struct {
	reg      *x12.Registry
	dir      *partners.Directory
	tr       *translate.Translator
	identity *as2.Identity
	client   *as2.Client
	snd      senders
}

func wire(cfg Config, db *sqlite.DB, log *slog.Logger) (*wiring, error) {
	reg, err := x12.LoadRegistry()
	if err != nil {
		return nil, err
	}
	dir, err := partners.LoadDir(cfg.PartnersDir)
	if err != nil {
		return nil, fmt.Errorf("loading partners: %w", err)
	}
	qual, id, _ := translate.Identity(cfg.ISAID)
	gs := cfg.GSID
	if gs == "" {
		gs = id
	}
	mdir := cfg.MappingsDir
	if _, err := os.Stat(mdir); err != nil {
		mdir = ""
	}
	tr := &translate.Translator{
		Registry: reg, Partners: dir, Library: &mappings.Library{Dir: mdir, Registry: reg},
		UsQual: qual, UsID: id, UsGS: gs, Alloc: allocator{db},
	}
	// Every partner's mappings must load before anything is received.
	for _, p := range dir.Partners {
		for _, set := range translate.Sets {
			if _, err := tr.Spec(p, set, p.X12.Version); err != nil {
				return nil, fmt.Errorf("partner %s: mapping for %s: %w", p.ID, set, err)
			}
		}
	}
	identity, err := as2.LoadOrCreateIdentity(cfg.DataDir, cfg.AS2ID)
	if err != nil {
		return nil, fmt.Errorf("AS2 identity: %w", err)
	}
	client := &as2.Client{Identity: identity, Partners: dir, Logger: log, Lenient: map[string][]string{}}
	for _, p := range dir.Partners {
		if a := p.Transports.AS2; a != nil && len(a.Leniencies) > 0 {
			client.Lenient[p.ID] = a.Leniencies
		}
	}
	sftpRoot := filepath.Join(cfg.DataDir, "sftp")
	snd := senders{as2: client, push: &sftp.Pusher{Partners: dir, Logger: log}, outbox: &sftp.Outbox{Root: sftpRoot, Partners: dir, Logger: log}}
	return &wiring{reg: reg, dir: dir, tr: tr, identity: identity, client: client, snd: snd}, nil
}

// allocator hands out our outbound control numbers from the store.
type allocator struct{ db *sqlite.DB }

func (a allocator) NextControl(partner, kind string) (int64, error) {
	return a.db.NextControl(partner, kind)
}

// withStore opens the configured data directory's store for a command.
func withStore(stderr io.Writer, run func(cfg Config, db *sqlite.DB) int) int {
	cfg, err := LoadConfig(os.Getenv("EDIGATE_CONFIG"), os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 2
	}
	db, err := openStore(cfg, newLogger(cfg.LogFormat, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "edigate: %v\n", err)
		return 1
	}
	defer db.Close()
	return run(cfg, db)
}

func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: edigate token create NAME")
		return 2
	}
	return withStore(stderr, func(_ Config, db *sqlite.DB) int {
		tok, err := db.CreateToken(context.Background(), args[1])
		if err != nil {
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, tok)
		return 0
	})
}

func runReplay(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: edigate replay MESSAGE_ID")
		return 2
	}
	return withStore(stderr, func(cfg Config, db *sqlite.DB) int {
		if err := db.Requeue(context.Background(), args[0]); err != nil {
			if errors.Is(err, gateway.ErrNotFound) {
				fmt.Fprintf(stderr, "edigate: no message %s in %s\n", args[0], cfg.DataDir)
				return 1
			}
			fmt.Fprintf(stderr, "edigate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "message %s queued again; a running gateway processes it with today's mappings\n", args[0])
		return 0
	})
}

// httpHandlerFunc adapts a handler method.
type httpHandlerFunc func(http.ResponseWriter, *http.Request)

func (f httpHandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) { f(w, r) }
