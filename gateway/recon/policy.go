package recon

import (
	"errors"
	"fmt"
	"time"

	"github.com/edigate/edigate/partners"
)

// Policy is what a partner has agreed to: the tolerances within which a
// document still matches the order, and when documents are due.
type Policy struct {
	// A price is within tolerance when |actual-expected| <=
	// max(PriceAbsolute, expected*PricePercent/100); a quantity when
	// |actual-expected| <= QuantityAbsolute. Zero means exact.
	PricePercent, PriceAbsolute, QuantityAbsolute Decimal
	// DateDays is how many days a scheduled date may differ from the
	// requested one.
	DateDays int
	// AckWithin: an 855 is due this long after our 850 (none is owed
	// for an order we did not send); 0 turns the check off.
	AckWithin time.Duration
	// ShipNoticeBy is "requested_date" (an 856 is due by the end of the
	// latest requested date, UTC) or "" (see ShipNoticeWithin).
	ShipNoticeBy string
	// ShipNoticeWithin: when ShipNoticeBy is "", an 856 is due this long
	// after the latest 855; 0 turns the check off.
	ShipNoticeWithin time.Duration
	// FunctionalAckWithin: a 997/999 on our 850 is due this long after
	// it was sent; 0 turns the check off.
	FunctionalAckWithin time.Duration
}

// ShipNoticeByRequestedDate is the ShipNoticeBy that makes an 856 due by
// the order's requested date.
const ShipNoticeByRequestedDate = "requested_date"

// Defaults of PolicyFor.
const (
	DefaultAckWithin           = 24 * time.Hour
	DefaultFunctionalAckWithin = 24 * time.Hour
)

// PolicyFor reads a partner's tolerances and SLA. An unset
// sla.po_ack_within is 24h and an unset
// x12.acknowledgement.expect_within (the 997/999 deadline) is 24h; "0s"
// turns either check off. Errors name the partner and the field.
func PolicyFor(p *partners.Partner) (Policy, error) {
	if p == nil {
		return Policy{}, errors.New("recon policy: no partner")
	}
	var pol Policy
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("partner %s: %s: %s", p.ID, field, fmt.Sprintf(format, args...)))
	}
	tol := func(field, s string) Decimal {
		if s == "" {
			return Decimal{}
		}
		d, err := ParseDecimal(s)
		if err != nil {
			bad(field, "%v", err)
			return Decimal{}
		}
		if d.Sign() < 0 {
			bad(field, "%q is negative", s)
			return Decimal{}
		}
		return d
	}
	pol.PricePercent = tol("tolerances.price_percent", p.Tolerances.PricePercent)
	pol.PriceAbsolute = tol("tolerances.price_absolute", p.Tolerances.PriceAbsolute)
	pol.QuantityAbsolute = tol("tolerances.quantity_absolute", p.Tolerances.QuantityAbsolute)
	pol.DateDays = p.Tolerances.DateDays
	if pol.DateDays < 0 {
		bad("tolerances.date_days", "%d is negative", pol.DateDays)
	}
	dur := func(field, s string, def time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			bad(field, "%q is not a duration such as 24h", s)
			return 0
		}
		return d
	}
	pol.AckWithin = dur("sla.po_ack_within", p.SLA.POAckWithin, DefaultAckWithin)
	pol.FunctionalAckWithin = dur("x12.acknowledgement.expect_within", p.X12.Acknowledgement.ExpectWithin, DefaultFunctionalAckWithin)
	switch s := p.SLA.ShipNoticeBy; s {
	case "":
	case ShipNoticeByRequestedDate:
		pol.ShipNoticeBy = s
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad("sla.ship_notice_by", "%q is neither requested_date nor a duration such as 72h", s)
			break
		}
		pol.ShipNoticeWithin = d
	}
	if len(errs) > 0 {
		return Policy{}, errors.Join(errs...)
	}
	return pol, nil
}
