package purchasing

import (
	"context"
	"errors"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/report"
	"github.com/edigate/edigate/translators/canonical"
)

// Report computes the reconciliation report of a day (facts up to the end
// of that day, UTC) and writes it under ReportDir; it returns the files.
func (s *Service) Report(ctx context.Context, day time.Time) ([]string, error) {
	if s.ReportDir == "" {
		return nil, errors.New("no report directory is configured")
	}
	r, err := s.ComputeReport(ctx, day)
	if err != nil {
		return nil, err
	}
	files, err := report.Write(s.ReportDir, r)
	if err != nil {
		return nil, err
	}
	s.log().Info("report written", "date", r.Date, "files", len(files))
	return files, nil
}

// ComputeReport gathers the facts of the store and computes the report.
func (s *Service) ComputeReport(ctx context.Context, day time.Time) (report.Report, error) {
	in := report.Input{Date: day, Partners: s.sortedPartners(), AckWithin: map[string]time.Duration{}}
	for _, id := range in.Partners {
		pol, err := s.policy(id)
		if err != nil {
			return report.Report{}, err
		}
		in.AckWithin[id] = pol.AckWithin
	}
	firstAck := map[gateway.PartnerPO]time.Time{}
	for _, kind := range []string{canonical.KindPOAcknowledgement, canonical.KindShipNotice, canonical.KindInvoice} {
		err := s.Store.EachDocumentHead(ctx, kind, func(d *gateway.StoredDocument) error {
			in.Documents = append(in.Documents, report.DocFacts{ID: d.ID, Kind: d.Kind, Partner: d.Partner, PONumber: d.PONumber, ReceivedAt: d.CreatedAt})
			if kind != canonical.KindPOAcknowledgement {
				return nil
			}
			k := gateway.PartnerPO{Partner: d.Partner, PONumber: d.PONumber}
			if t, ok := firstAck[k]; !ok || d.CreatedAt.Before(t) {
				firstAck[k] = d.CreatedAt
			}
			return nil
		})
		if err != nil {
			return report.Report{}, err
		}
	}
	sent, err := s.Store.SentOrders(ctx)
	if err != nil {
		return report.Report{}, err
	}
	for _, so := range sent {
		if so.AckStatus == gateway.SentSending {
			continue // not gone out yet
		}
		in.Orders = append(in.Orders, report.OrderFacts{Partner: so.Partner, PONumber: so.PONumber, SentAt: so.SentAt,
			FirstAckAt: firstAck[gateway.PartnerPO{Partner: so.Partner, PONumber: so.PONumber}]})
	}
	if err := s.Store.AllExceptions(ctx, func(e *gateway.Exception) error {
		in.Exceptions = append(in.Exceptions, *e)
		return nil
	}); err != nil {
		return report.Report{}, err
	}
	return report.Compute(in, s.Store.Now()), nil
}
