package sqlite

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/translators/canonical"
)

// otherDoc is a Document type the store does not know: its PO number is
// read from its JSON.
type otherDoc struct {
	canonical.Header
	PONumber string `json:"po_number"`
}

func TestDocuments(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpenDB(t, WithNow(clk.Now))
	m := mustReceive(t, db, gateway.Receipt{Partner: "acme", CorrelationID: "cor_1"}, "850 and 856")
	m2 := mustReceive(t, db, gateway.Receipt{Partner: "globex"}, "810")

	po := &canonical.PurchaseOrder{
		Header:   canonical.Header{Kind: canonical.KindPurchaseOrder, ID: "doc_po", Partner: "acme", Direction: canonical.Inbound, CorrelationID: "cor_1"},
		PONumber: "PO-1", PODate: "2025-03-01", Purpose: "original",
		Lines: []canonical.POLine{{LineNumber: "1", Quantity: "10", UOM: "EA", UnitPrice: "12.50"}},
	}
	asn := &canonical.ShipNotice{
		Header:     canonical.Header{Kind: canonical.KindShipNotice, ID: "doc_asn"}, // partner and correlation from the message
		ShipmentID: "SH-1",
		Orders:     []canonical.ShipOrder{{PONumber: "PO-2"}, {PONumber: "PO-3"}},
	}
	inv := &canonical.Invoice{
		Header:   canonical.Header{Kind: canonical.KindInvoice, ID: "doc_inv", Partner: "globex"},
		PONumber: "PO-1", InvoiceNumber: "INV-1", TotalAmount: "125.00",
	}
	ack := &canonical.POAcknowledgement{Header: canonical.Header{ID: "doc_ack"}, PONumber: "PO-4"} // kind from the type
	other := &otherDoc{Header: canonical.Header{Kind: "remittance", ID: "doc_other"}, PONumber: "PO-5"}

	if err := db.SaveDocuments(ctx, m.ID, []canonical.Document{po, asn, ack, other}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveDocuments(ctx, m2.ID, []canonical.Document{inv}); err != nil {
		t.Fatal(err)
	}

	t.Run("document", func(t *testing.T) {
		got, err := db.Document(ctx, "doc_po")
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(po)
		want := &gateway.StoredDocument{
			ID: "doc_po", Kind: canonical.KindPurchaseOrder, Partner: "acme", PONumber: "PO-1",
			MessageID: m.ID, CorrelationID: "cor_1", CreatedAt: clk.Now(), Document: wantJSON,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Document = %+v\nwant %+v", got, want)
		}
		var back canonical.PurchaseOrder
		if err := json.Unmarshal(got.Document, &back); err != nil || !reflect.DeepEqual(&back, po) {
			t.Errorf("document JSON does not round-trip: %v", err)
		}
	})
	t.Run("defaults from the message", func(t *testing.T) {
		got, err := db.Document(ctx, "doc_asn")
		if err != nil {
			t.Fatal(err)
		}
		if got.Partner != "acme" || got.CorrelationID != "cor_1" || got.PONumber != "PO-2" {
			t.Errorf("ship notice: partner %q correlation %q po %q, want acme cor_1 PO-2 (first order)", got.Partner, got.CorrelationID, got.PONumber)
		}
		got, err = db.Document(ctx, "doc_ack")
		if err != nil || got.Kind != canonical.KindPOAcknowledgement || got.PONumber != "PO-4" {
			t.Errorf("ack: %+v, %v", got, err)
		}
		got, err = db.Document(ctx, "doc_other")
		if err != nil || got.Kind != "remittance" || got.PONumber != "PO-5" {
			t.Errorf("other: %+v, %v", got, err)
		}
	})
	t.Run("message lists its documents", func(t *testing.T) {
		got := mustMessage(t, db, m.ID)
		if want := []string{"doc_po", "doc_asn", "doc_ack", "doc_other"}; !reflect.DeepEqual(got.Documents, want) {
			t.Errorf("Documents = %v, want %v", got.Documents, want)
		}
	})

	ids := func(docs []*gateway.StoredDocument) []string {
		var s []string
		for _, d := range docs {
			s = append(s, d.ID)
		}
		return s
	}
	for _, c := range []struct {
		name string
		f    gateway.DocumentFilter
		want []string
	}{
		{"all, newest first", gateway.DocumentFilter{}, []string{"doc_inv", "doc_other", "doc_ack", "doc_asn", "doc_po"}},
		{"kind", gateway.DocumentFilter{Kind: canonical.KindPurchaseOrder}, []string{"doc_po"}},
		{"partner", gateway.DocumentFilter{Partner: "globex"}, []string{"doc_inv"}},
		{"po number", gateway.DocumentFilter{PONumber: "PO-1"}, []string{"doc_inv", "doc_po"}},
		{"po number and kind", gateway.DocumentFilter{PONumber: "PO-1", Kind: canonical.KindInvoice}, []string{"doc_inv"}},
		{"po number of a later order in a ship notice", gateway.DocumentFilter{PONumber: "PO-3"}, nil},
		{"limit and offset", gateway.DocumentFilter{Limit: 2, Offset: 1}, []string{"doc_other", "doc_ack"}},
		{"nothing", gateway.DocumentFilter{Kind: "nope"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := db.Documents(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if docs == nil {
				t.Error("nil slice, want empty")
			}
			if got := ids(docs); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}

	t.Run("saving again replaces", func(t *testing.T) {
		created := clk.Now()
		clk.Add(1e9)
		po2 := *po
		po2.PONumber = "PO-1B"
		if err := db.SaveDocuments(ctx, m.ID, []canonical.Document{&po2, asn, ack, other}); err != nil {
			t.Fatal(err)
		}
		all, err := db.Documents(ctx, gateway.DocumentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 5 {
			t.Errorf("%d documents after saving again, want 5", len(all))
		}
		got, err := db.Document(ctx, "doc_po")
		if err != nil || got.PONumber != "PO-1B" || !got.CreatedAt.Equal(created) {
			t.Errorf("replaced document: %+v, %v", got, err)
		}
		if docs, _ := db.Documents(ctx, gateway.DocumentFilter{PONumber: "PO-1"}); !reflect.DeepEqual(ids(docs), []string{"doc_inv"}) {
			t.Errorf("old PO number still found: %v", ids(docs))
		}
		if got := mustMessage(t, db, m.ID); len(got.Documents) != 4 {
			t.Errorf("message documents after saving again: %v", got.Documents)
		}
	})
	t.Run("errors", func(t *testing.T) {
		err := db.SaveDocuments(ctx, "msg_nope", []canonical.Document{po})
		wantNotFound(t, "SaveDocuments of an unknown message", err)
		_, err = db.Document(ctx, "doc_nope")
		wantNotFound(t, "Document", err)
		noID := &canonical.Invoice{Header: canonical.Header{Kind: canonical.KindInvoice}}
		if err := db.SaveDocuments(ctx, m.ID, []canonical.Document{noID}); gateway.ErrorCode(err) != gateway.EINVALID {
			t.Errorf("document without id: %v, want EINVALID", err)
		}
		// Nothing of a failing batch is saved.
		bad := []canonical.Document{&canonical.Invoice{Header: canonical.Header{ID: "doc_new"}}, noID}
		if err := db.SaveDocuments(ctx, m.ID, bad); err == nil {
			t.Error("batch with a bad document saved")
		}
		_, err = db.Document(ctx, "doc_new")
		wantNotFound(t, "Document of a failed batch", err)
	})
}
