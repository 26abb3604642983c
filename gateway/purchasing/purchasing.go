// Package purchasing ties the ERP's purchase orders to the documents
// partners send: it imports orders from the ERP connector, sends our 850s
// for new orders, matches the partners' 997/999s, runs reconciliation
// (on arrival and on schedule) into the exception queue, hands buyers'
// decisions back to the ERP, and writes the nightly report.
package purchasing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/recon"
	"github.com/edigate/edigate/gateway/translate"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// Store is what the service needs from the store.
type Store interface {
	gateway.Store
	gateway.Purchasing
}

// Service runs the purchasing side of the gateway.
type Service struct {
	Store      Store
	Partners   *partners.Directory
	Translator *translate.Translator
	// SenderFor picks the transport that takes an 850 to a partner; nil
	// (or a nil result) means we do not send 850s to that partner.
	SenderFor func(*partners.Partner) gateway.Sender
	// Connector is the ERP; nil when none is configured.
	Connector gateway.Connector
	// ReportDir holds the nightly reports.
	ReportDir string
	Logger    *slog.Logger

	mu        sync.Mutex // one reconciliation pass at a time: passes clear what they do not find
	pullMu    sync.Mutex // one ERP pull at a time: a pull's Commit archives what it read
	decidedMu sync.Mutex // one decisions export at a time: each decision goes to the ERP once
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) partner(id string) *partners.Partner {
	if s.Partners == nil {
		return nil
	}
	p, _ := s.Partners.ByID(id)
	return p
}

// ImportReport says what an import did.
type ImportReport struct {
	gateway.ImportResult
	Sent        []string `json:"sent,omitempty"`        // PO numbers whose 850 went out
	Problems    []string `json:"problems,omitempty"`    // rows refused, each with file and line
	SendErrors  []string `json:"send_errors,omitempty"` // 850s that could not be sent (retried later)
	Exceptions  gateway.ApplyResult
	UnknownPart []string `json:"unknown_partners,omitempty"` // partners in the export no partner file knows
}

// Import stores orders from an ERP export, sends the 850s of the new
// ones, reconciles the orders that changed, and records the run with the
// rows the export's reading refused (problems), for the API to show.
func (s *Service) Import(ctx context.Context, source string, orders []gateway.Order, problems []error) (*ImportReport, error) {
	rep := &ImportReport{}
	for _, p := range problems {
		rep.Problems = append(rep.Problems, p.Error())
	}
	if len(orders) > 0 {
		res, err := s.Store.ImportOrdersClaiming(ctx, source, orders, func(partner string) bool {
			_, snd := s.transportFor(partner)
			return snd != nil
		})
		if err != nil {
			return nil, err
		}
		rep.ImportResult = res
	}
	unknown := map[string]bool{}
	for _, o := range orders {
		if s.partner(o.Partner) == nil && !unknown[o.Partner] {
			unknown[o.Partner] = true
			rep.UnknownPart = append(rep.UnknownPart, o.Partner)
		}
	}
	s.log().Info("erp import", "source", source, "created", rep.Created, "changed", rep.Changed, "unchanged", rep.Unchanged, "refused_rows", len(problems))
	for _, p := range problems {
		s.log().Warn("erp row refused", "source", source, "err", p)
	}
	byID := make(map[string]*gateway.Order, len(orders))
	for i := range orders {
		byID[gateway.OrderID(orders[i].Partner, orders[i].PONumber)] = &orders[i]
	}
	sent, errs := s.sendNew(ctx, rep.New, byID)
	rep.Sent = sent
	for _, e := range errs {
		rep.SendErrors = append(rep.SendErrors, e.Error())
	}
	if err := s.Store.RecordImport(ctx, gateway.ImportRun{Source: source, Created: rep.Created, Changed: rep.Changed,
		Unchanged: rep.Unchanged, Sent: len(sent), Problems: rep.Problems}); err != nil {
		return rep, err
	}
	if len(rep.Orders) > 0 {
		scope := gateway.Scope{}
		seen := map[string]bool{}
		for _, id := range rep.Orders {
			if seen[id] {
				continue // the same PO in two files of one pull
			}
			seen[id] = true
			o := byID[id]
			scope.Orders = append(scope.Orders, gateway.PartnerPO{Partner: o.Partner, PONumber: o.PONumber})
		}
		var err error
		if rep.Exceptions, err = s.Reconcile(ctx, scope); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Pull imports what the ERP connector has ready, then lets the connector
// commit it.
func (s *Service) Pull(ctx context.Context) (*ImportReport, error) {
	if s.Connector == nil {
		return nil, errors.New("no ERP connector is configured")
	}
	s.pullMu.Lock()
	defer s.pullMu.Unlock()
	orders, problems, err := s.Connector.Pull(ctx)
	if err != nil {
		return nil, fmt.Errorf("pulling from the ERP: %w", err)
	}
	rep := &ImportReport{}
	if len(orders)+len(problems) > 0 {
		if rep, err = s.Import(ctx, pullSource(orders), orders, problems); err != nil {
			return rep, err
		}
	}
	if err := s.Connector.Commit(ctx); err != nil {
		return rep, fmt.Errorf("committing the ERP pull: %w", err)
	}
	return rep, nil
}

// pullSource names a pull's run after the files its orders came from.
func pullSource(orders []gateway.Order) string {
	var files []string
	for _, o := range orders {
		if o.Source != "" && !slices.Contains(files, o.Source) {
			files = append(files, o.Source)
		}
	}
	if len(files) == 0 {
		return "erp pull"
	}
	return "erp pull: " + strings.Join(files, ", ")
}

// sendLease is how long a claimed 850 may take to go out before another
// attempt takes it over: longer than any transport's timeout (AS2: 5
// minutes), so that a slow send is not doubled by a retry.
const sendLease = 15 * time.Minute

// transportFor is how 850s reach a partner, or nil when we send none.
func (s *Service) transportFor(partnerID string) (*partners.Partner, gateway.Sender) {
	p := s.partner(partnerID)
	if p == nil || s.SenderFor == nil || s.Translator == nil {
		return nil, nil
	}
	return p, s.SenderFor(p)
}

// sendNew sends the 850s the import just claimed (ImportOrdersClaiming)
// for the orders of ids. A send that fails stays claimed and RetrySends
// sends it with the same bytes once the claim is stale.
func (s *Service) sendNew(ctx context.Context, ids []string, byID map[string]*gateway.Order) (sent []string, errs []error) {
	for _, id := range ids {
		o := byID[id]
		p, snd := s.transportFor(o.Partner)
		if snd == nil {
			continue
		}
		so, err := s.Store.SentFor(ctx, o.Partner, o.PONumber)
		if errors.Is(err, gateway.ErrNotFound) {
			continue // not claimed: not ours to send
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if so.AckStatus != gateway.SentSending || so.Interchange != "" {
			continue // sent, or being sent by whoever prepared it
		}
		if err := s.deliver(ctx, p, snd, o, nil); err != nil {
			s.log().Error("850 not sent (retried later)", "partner_id", o.Partner, "po_number", o.PONumber, "err", err)
			errs = append(errs, fmt.Errorf("partner %s PO %s: %w", o.Partner, o.PONumber, err))
			continue
		}
		sent = append(sent, o.PONumber)
	}
	return sent, errs
}

// RetrySends takes over the 850s claimed more than sendLease ago and not
// sent (the transport failed, or the process stopped), and sends them
// with the bytes written the first time.
func (s *Service) RetrySends(ctx context.Context) (sent []string, errs []error) {
	stale, err := s.Store.StaleSends(ctx, s.Store.Now().Add(-sendLease))
	if err != nil {
		return nil, []error{err}
	}
	for _, so := range stale {
		renewed, err := s.Store.RenewSend(ctx, so.Partner, so.PONumber, so.SentAt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !renewed {
			continue // another process took it
		}
		o, err := s.Store.Order(ctx, gateway.OrderID(so.Partner, so.PONumber))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, snd := s.transportFor(o.Partner)
		if snd == nil {
			errs = append(errs, fmt.Errorf("partner %s PO %s: the partner no longer has a transport for 850s", o.Partner, o.PONumber))
			continue
		}
		if err := s.deliver(ctx, p, snd, o, so); err != nil {
			errs = append(errs, fmt.Errorf("partner %s PO %s: %w", o.Partner, o.PONumber, err))
			continue
		}
		sent = append(sent, o.PONumber)
	}
	return sent, errs
}

// PurchaseOrder is the canonical 850 for an ERP order.
func PurchaseOrder(o *gateway.Order) *canonical.PurchaseOrder {
	po := &canonical.PurchaseOrder{
		Header: canonical.Header{
			Kind: canonical.KindPurchaseOrder, ID: "doc_out_850_" + o.Partner + "_" + o.PONumber,
			Partner: o.Partner, Direction: canonical.Outbound, CorrelationID: "cor_" + o.ID,
		},
		PONumber: o.PONumber, PODate: o.PODate, Purpose: "original", Lines: []canonical.POLine{},
	}
	for _, l := range o.Lines {
		po.Lines = append(po.Lines, canonical.POLine{
			LineNumber: l.LineNumber, BuyerItem: l.BuyerItem, VendorItem: l.VendorItem,
			Quantity: l.Quantity, UOM: l.UOM, UnitPrice: l.UnitPrice,
		})
		if l.RequestedDate != "" && (po.RequestedDeliveryDate == "" || l.RequestedDate < po.RequestedDeliveryDate) {
			po.RequestedDeliveryDate = l.RequestedDate
		}
	}
	return po
}

// deliver writes a claimed order's 850 (or takes the bytes written
// before, from prepared), records them, and hands them to the transport.
func (s *Service) deliver(ctx context.Context, p *partners.Partner, snd gateway.Sender, o *gateway.Order, prepared *gateway.SentOrder) error {
	rec := gateway.SentOrder{Partner: p.ID, PONumber: o.PONumber}
	if prepared != nil && len(prepared.Payload) > 0 {
		rec = *prepared
	} else {
		w, err := s.Translator.Write(p.ID, PurchaseOrder(o))
		if err != nil {
			return err
		}
		rec.Filename = fmt.Sprintf("850_%s_%s.x12", safeName(o.PONumber), w.Interchange)
		rec.Interchange, rec.Group, rec.Transaction, rec.Payload = w.Interchange, w.Group, w.Transactions[0], w.Bytes
		if err := s.Store.PrepareSend(ctx, rec); err != nil {
			return err
		}
	}
	if err := snd.Send(ctx, p.ID, rec.Filename, rec.Payload); err != nil {
		return fmt.Errorf("sending %s: %w", rec.Filename, err)
	}
	s.log().Info("850 sent", "partner_id", p.ID, "po_number", o.PONumber, "file", rec.Filename,
		"isa_control", rec.Interchange, "gs_control", rec.Group, "st_control", rec.Transaction)
	rec.SentAt, rec.AckStatus = s.Store.Now(), gateway.SentPending
	if err := s.Store.RecordSent(ctx, rec); err != nil {
		// The partner has it; only our record is missing. The claim goes
		// stale and the same bytes go again: the partner sees a duplicate
		// interchange (same ISA13), which is what its duplicate check is for.
		return fmt.Errorf("%s was handed to the transport but not recorded as sent (it will be sent again): %w", rec.Filename, err)
	}
	return nil
}

// safeName keeps letters, digits, dot, dash and underscore.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// Arrived is called when a message's documents are stored: it records
// the 997/999 verdicts on our 850s and reconciles the orders concerned.
func (s *Service) Arrived(ctx context.Context, m *gateway.Message, docs []canonical.Document, acks []*x12.FunctionalAck) error {
	scope := gateway.Scope{}
	seen := map[gateway.PartnerPO]bool{}
	add := func(po string) {
		k := gateway.PartnerPO{Partner: m.Partner, PONumber: po}
		if po != "" && !seen[k] {
			seen[k] = true
			scope.Orders = append(scope.Orders, k)
		}
	}
	for _, fa := range acks {
		for _, set := range fa.Sets {
			if set.ID != "850" {
				continue
			}
			sent, err := s.Store.MatchFunctionalAck(ctx, m.Partner, fa.GroupControl, set.Control, set.Status, set.Codes, m.ID)
			if errors.Is(err, gateway.ErrNotFound) {
				s.log().Warn("997/999 for an 850 we did not send", "partner_id", m.Partner, "message_id", m.ID,
					"gs_control", fa.GroupControl, "st_control", set.Control)
				continue
			}
			if err != nil {
				return err
			}
			s.log().Info("850 acknowledged", "partner_id", m.Partner, "po_number", sent.PONumber, "status", sent.AckStatus, "message_id", m.ID)
			add(sent.PONumber)
		}
	}
	for _, d := range docs {
		switch d := d.(type) {
		case *canonical.POAcknowledgement:
			add(d.PONumber)
		case *canonical.Invoice:
			add(d.PONumber)
		case *canonical.ShipNotice:
			for _, o := range d.Orders {
				add(o.PONumber)
			}
		}
	}
	if len(scope.Orders) == 0 {
		return nil
	}
	res, err := s.Reconcile(ctx, scope)
	if err != nil {
		return err
	}
	if res != (gateway.ApplyResult{}) {
		s.log().Info("reconciled on arrival", "message_id", m.ID, "correlation_id", m.CorrelationID, "orders", len(scope.Orders),
			"raised", res.Raised, "updated", res.Updated, "reopened", res.Reopened, "cleared", res.Cleared)
	}
	return nil
}

// Reconcile checks the orders in scope (every order the store knows when
// scope.All) and records the findings as exceptions.
func (s *Service) Reconcile(ctx context.Context, scope gateway.Scope) (gateway.ApplyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// One clock, the store's: deadlines are compared with times it stamped,
	// and what changes while we read is newer than our reading.
	scope.Since = s.Store.Now()
	ck := &checker{svc: s, now: scope.Since, policies: map[string]recon.Policy{}, invoices: map[string]map[string]string{}}
	var findings []gateway.Finding
	var err error
	if scope.All {
		findings, err = s.checkAll(ctx, ck)
	} else {
		findings, err = s.checkSome(ctx, ck, scope.Orders)
	}
	if err != nil {
		return gateway.ApplyResult{}, err
	}
	// In key order, so that a pass records the same way however its
	// cases were scheduled.
	sort.Slice(findings, func(i, j int) bool { return findings[i].Key < findings[j].Key })
	return s.Store.ApplyFindings(ctx, scope, findings, "reconciliation")
}

// checker holds what a pass looks up once per partner.
type checker struct {
	svc      *Service
	now      time.Time
	mu       sync.Mutex
	policies map[string]recon.Policy
	invoices map[string]map[string]string // partner → invoice document → first with its number
}

func (c *checker) partner(ctx context.Context, id string) (recon.Policy, map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pol, ok := c.policies[id]
	if !ok {
		var err error
		if pol, err = c.svc.policy(id); err != nil {
			return pol, nil, err
		}
		c.policies[id] = pol
	}
	inv, ok := c.invoices[id]
	if !ok {
		var err error
		if inv, err = c.svc.Store.InvoiceNumbers(ctx, id); err != nil {
			return pol, nil, err
		}
		c.invoices[id] = inv
	}
	return pol, inv, nil
}

// check decodes one case's documents and checks it.
func (c *checker) check(ctx context.Context, k gateway.PartnerPO, o *gateway.Order, sent *gateway.SentOrder, docs []*gateway.StoredDocument, out []gateway.Finding) ([]gateway.Finding, error) {
	pol, inv, err := c.partner(ctx, k.Partner)
	if err != nil {
		return out, err
	}
	cs, err := buildCase(k, o, sent, docs, inv)
	if err != nil {
		return out, err
	}
	return recon.Check(cs, pol, c.now, out), nil
}

// checkSome checks the named orders, one by one.
func (s *Service) checkSome(ctx context.Context, ck *checker, keys []gateway.PartnerPO) ([]gateway.Finding, error) {
	var findings []gateway.Finding
	for _, k := range keys {
		o, err := s.Store.Order(ctx, gateway.OrderID(k.Partner, k.PONumber))
		if errors.Is(err, gateway.ErrNotFound) {
			o, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		sent, err := s.Store.SentFor(ctx, k.Partner, k.PONumber)
		if errors.Is(err, gateway.ErrNotFound) {
			sent, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		docs, err := s.Store.OrderDocuments(ctx, k.Partner, k.PONumber)
		if err != nil {
			return nil, err
		}
		if findings, err = ck.check(ctx, k, o, sent, docs, findings); err != nil {
			return nil, err
		}
	}
	return findings, nil
}

// checkAll streams every case from the store and checks them on all
// cores: decoding the documents' JSON is most of the work.
func (s *Service) checkAll(ctx context.Context, ck *checker) ([]gateway.Finding, error) {
	type job struct {
		k    gateway.PartnerPO
		o    *gateway.Order
		sent *gateway.SentOrder
		docs []*gateway.StoredDocument
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job, 4*workers)
	results := make([][]gateway.Finding, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if errs[w] != nil {
					continue // drain
				}
				var err error
				if results[w], err = ck.check(ctx, j.k, j.o, j.sent, j.docs, results[w]); err != nil {
					errs[w] = err
					cancel()
				}
			}
		}()
	}
	err := s.Store.EachCase(ctx, func(k gateway.PartnerPO, o *gateway.Order, sent *gateway.SentOrder, docs []*gateway.StoredDocument) error {
		select {
		case jobs <- job{k, o, sent, docs}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if e := errors.Join(errs...); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	var findings []gateway.Finding
	for _, r := range results {
		findings = append(findings, r...)
	}
	return findings, nil
}

func (s *Service) policy(partnerID string) (recon.Policy, error) {
	p := s.partner(partnerID)
	if p == nil {
		p = &partners.Partner{ID: partnerID}
	}
	return recon.PolicyFor(p)
}

// buildCase decodes what the store holds about one PO into a case.
func buildCase(k gateway.PartnerPO, o *gateway.Order, sent *gateway.SentOrder, docs []*gateway.StoredDocument, invoiceFirst map[string]string) (*recon.Case, error) {
	if o != nil {
		if err := o.DecodeLines(); err != nil {
			return nil, err
		}
	}
	if sent != nil && sent.AckStatus == gateway.SentSending {
		sent = nil // claimed, not gone out yet: nothing is owed for it
	}
	c := &recon.Case{Partner: k.Partner, PONumber: k.PONumber, Order: o, Sent: sent}
	for _, d := range docs {
		switch d.Kind {
		case canonical.KindPOAcknowledgement:
			var a canonical.POAcknowledgement
			if err := json.Unmarshal(d.Document, &a); err != nil {
				return nil, fmt.Errorf("document %s: %w", d.ID, err)
			}
			c.Acks = append(c.Acks, recon.Ack{DocID: d.ID, Received: d.CreatedAt, Doc: &a})
		case canonical.KindShipNotice:
			var sn canonical.ShipNotice
			if err := json.Unmarshal(d.Document, &sn); err != nil {
				return nil, fmt.Errorf("document %s: %w", d.ID, err)
			}
			c.Shipments = append(c.Shipments, recon.Shipment{DocID: d.ID, Received: d.CreatedAt, Doc: &sn})
		case canonical.KindInvoice:
			var inv canonical.Invoice
			if err := json.Unmarshal(d.Document, &inv); err != nil {
				return nil, fmt.Errorf("document %s: %w", d.ID, err)
			}
			dup := ""
			if first := invoiceFirst[d.ID]; first != "" && first != d.ID {
				dup = first
			}
			c.Invoices = append(c.Invoices, recon.Invoice{DocID: d.ID, Received: d.CreatedAt, Doc: &inv, DuplicateOf: dup})
		}
	}
	return c, nil
}

// ExportDecisions hands the buyers' accept and reject decisions not yet
// exported to the ERP connector. Only the gateway exports: within it, one
// export runs at a time; each decision carries its event number, by
// which an ERP that imports a file twice can tell.
func (s *Service) ExportDecisions(ctx context.Context) (int, error) {
	if s.Connector == nil {
		return 0, nil
	}
	s.decidedMu.Lock()
	defer s.decidedMu.Unlock()
	decs, err := s.Store.PendingDecisions(ctx)
	if err != nil || len(decs) == 0 {
		return 0, err
	}
	if err := s.Connector.PushDecisions(ctx, decs); err != nil {
		return 0, fmt.Errorf("handing %d decisions to the ERP: %w", len(decs), err)
	}
	events := make([]int64, len(decs))
	for i, d := range decs {
		events[i] = d.Event
	}
	if err := s.Store.MarkDecisionsExported(ctx, events); err != nil {
		return 0, err
	}
	s.log().Info("decisions exported to the ERP", "decisions", len(decs))
	return len(decs), nil
}

// sortedPartners lists the partner IDs of the directory.
func (s *Service) sortedPartners() []string {
	var ids []string
	if s.Partners != nil {
		for _, p := range s.Partners.Partners {
			ids = append(ids, p.ID)
		}
	}
	sort.Strings(ids)
	return ids
}
