package recon

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edigate/edigate/partners"
)

func TestPolicyFor(t *testing.T) {
	p := &partners.Partner{ID: "acme"}
	p.Tolerances = partners.Tolerances{PricePercent: "0.5", PriceAbsolute: "0.01", QuantityAbsolute: "0", DateDays: 2}
	p.SLA.ShipNoticeBy = "requested_date"
	p.X12.Acknowledgement.ExpectWithin = "4h"
	pol, err := PolicyFor(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Policy{
		PricePercent: MustParseDecimal("0.5"), PriceAbsolute: MustParseDecimal("0.01"), DateDays: 2,
		AckWithin: 24 * time.Hour, ShipNoticeBy: "requested_date", FunctionalAckWithin: 4 * time.Hour,
	}
	if pol != want {
		t.Errorf("PolicyFor = %+v, want %+v", pol, want)
	}

	t.Run("defaults", func(t *testing.T) {
		pol, err := PolicyFor(&partners.Partner{ID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if pol != (Policy{AckWithin: 24 * time.Hour, FunctionalAckWithin: 24 * time.Hour}) {
			t.Errorf("PolicyFor = %+v", pol)
		}
	})
	t.Run("ship notice duration", func(t *testing.T) {
		p := &partners.Partner{ID: "x"}
		p.SLA.ShipNoticeBy = "72h"
		p.SLA.POAckWithin = "0s"
		pol, err := PolicyFor(p)
		if err != nil {
			t.Fatal(err)
		}
		if pol.ShipNoticeBy != "" || pol.ShipNoticeWithin != 72*time.Hour || pol.AckWithin != 0 {
			t.Errorf("PolicyFor = %+v", pol)
		}
	})
}

func TestPolicyForErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(p *partners.Partner)
		field string
	}{
		{"price percent", func(p *partners.Partner) { p.Tolerances.PricePercent = "half" }, "tolerances.price_percent"},
		{"price absolute precision", func(p *partners.Partner) { p.Tolerances.PriceAbsolute = "0.0000001" }, "tolerances.price_absolute"},
		{"negative quantity", func(p *partners.Partner) { p.Tolerances.QuantityAbsolute = "-1" }, "tolerances.quantity_absolute"},
		{"negative days", func(p *partners.Partner) { p.Tolerances.DateDays = -1 }, "tolerances.date_days"},
		{"ack within", func(p *partners.Partner) { p.SLA.POAckWithin = "a day" }, "sla.po_ack_within"},
		{"fa within", func(p *partners.Partner) { p.X12.Acknowledgement.ExpectWithin = "-4h" }, "x12.acknowledgement.expect_within"},
		{"ship notice by", func(p *partners.Partner) { p.SLA.ShipNoticeBy = "ship_date" }, "sla.ship_notice_by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &partners.Partner{ID: "betaparts"}
			tc.edit(p)
			_, err := PolicyFor(p)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, "partner betaparts") || !strings.Contains(msg, tc.field) {
				t.Errorf("error %q does not name the partner and %s", msg, tc.field)
			}
		})
	}
	if _, err := PolicyFor(nil); err == nil {
		t.Error("PolicyFor(nil): no error")
	}
}

// TestPolicyForPartners reads the repository's partner files.
func TestPolicyForPartners(t *testing.T) {
	files, _ := filepath.Glob("../../partners/*.yaml")
	if len(files) == 0 {
		t.Skip("no partner files")
	}
	for _, f := range files {
		p, err := partners.Load(f)
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		if _, err := PolicyFor(p); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
