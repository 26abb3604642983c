// Package canonical holds edigate's canonical business documents: purchase
// orders, PO acknowledgements, ship notices and invoices, whatever X12
// version or partner they came from. The JSON field names are a contract
// with ERP teams (see DESIGN.md): fields may be added, never renamed.
//
// Decimal amounts and quantities are strings holding a decimal number
// ("12.50"), never floats; dates are "YYYY-MM-DD". The package imports only
// the standard library so that every other package can use it.
package canonical

import (
	"embed"
	"fmt"
	"sort"
)

// Kinds of canonical documents.
const (
	KindPurchaseOrder     = "purchase_order"
	KindPOAcknowledgement = "po_acknowledgement"
	KindShipNotice        = "ship_notice"
	KindInvoice           = "invoice"
)

// Directions.
const (
	Inbound  = "inbound"
	Outbound = "outbound"
)

// Source says which X12 transaction set a document came from (or became).
type Source struct {
	Set                string `json:"set"`
	Version            string `json:"version"`
	InterchangeControl string `json:"interchange_control"`
	GroupControl       string `json:"group_control"`
	TransactionControl string `json:"transaction_control"`
}

// Header is what every document carries.
type Header struct {
	Kind          string `json:"kind"`
	ID            string `json:"id"`
	Partner       string `json:"partner"`
	Direction     string `json:"direction"`
	CorrelationID string `json:"correlation_id"`
	Source        Source `json:"source"`
}

// Address is a party's postal address (N3/N4).
type Address struct {
	Street     []string `json:"street,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// Party is a buyer, seller, ship-to or bill-to (N1 loop).
type Party struct {
	Name        string   `json:"name,omitempty"`
	ID          string   `json:"id,omitempty"`
	IDQualifier string   `json:"id_qualifier,omitempty"`
	Address     *Address `json:"address,omitempty"`
}

// PurchaseOrder is an 850.
type PurchaseOrder struct {
	Header
	PONumber              string   `json:"po_number"`
	PODate                string   `json:"po_date"`
	Purpose               string   `json:"purpose"`
	OrderType             string   `json:"order_type,omitempty"`
	Currency              string   `json:"currency,omitempty"`
	Buyer                 *Party   `json:"buyer,omitempty"`
	Seller                *Party   `json:"seller,omitempty"`
	ShipTo                *Party   `json:"ship_to,omitempty"`
	BillTo                *Party   `json:"bill_to,omitempty"`
	RequestedDeliveryDate string   `json:"requested_delivery_date,omitempty"`
	Lines                 []POLine `json:"lines"`
}

// POLine is one PO1 line.
type POLine struct {
	LineNumber  string `json:"line_number"`
	BuyerItem   string `json:"buyer_item,omitempty"`
	VendorItem  string `json:"vendor_item,omitempty"`
	GTIN        string `json:"gtin,omitempty"`
	Description string `json:"description,omitempty"`
	Quantity    string `json:"quantity"`
	UOM         string `json:"uom"`
	UnitPrice   string `json:"unit_price,omitempty"`
}

// Acknowledgement line statuses.
const (
	StatusAccepted    = "accepted"
	StatusChanged     = "changed"
	StatusBackordered = "backordered"
	StatusRejected    = "rejected"
	StatusUnknown     = "unknown"
)

// POAcknowledgement is an 855.
type POAcknowledgement struct {
	Header
	PONumber string    `json:"po_number"`
	AckDate  string    `json:"ack_date,omitempty"`
	AckType  string    `json:"ack_type"`
	PODate   string    `json:"po_date,omitempty"`
	Seller   *Party    `json:"seller,omitempty"`
	Lines    []AckLine `json:"lines"`
}

// AckLine is one PO1 line with its first ACK.
type AckLine struct {
	LineNumber      string `json:"line_number"`
	BuyerItem       string `json:"buyer_item,omitempty"`
	VendorItem      string `json:"vendor_item,omitempty"`
	OrderedQuantity string `json:"ordered_quantity,omitempty"`
	UnitPrice       string `json:"unit_price,omitempty"`
	UOM             string `json:"uom,omitempty"`
	Status          string `json:"status"`
	StatusCode      string `json:"status_code,omitempty"`
	AckQuantity     string `json:"ack_quantity,omitempty"`
	AckUOM          string `json:"ack_uom,omitempty"`
	AckUnitPrice    string `json:"ack_unit_price,omitempty"`
	ScheduledDate   string `json:"scheduled_date,omitempty"`
}

// ShipNotice is an 856.
type ShipNotice struct {
	Header
	ShipmentID     string      `json:"shipment_id"`
	ShipDate       string      `json:"ship_date,omitempty"`
	Carrier        string      `json:"carrier,omitempty"`
	TrackingNumber string      `json:"tracking_number,omitempty"`
	BillOfLading   string      `json:"bill_of_lading,omitempty"`
	ShipTo         *Party      `json:"ship_to,omitempty"`
	Orders         []ShipOrder `json:"orders"`
}

// ShipOrder is one order (HL level O) in a ship notice.
type ShipOrder struct {
	PONumber string `json:"po_number"`
	Packs    []Pack `json:"packs"`
}

// Pack is one pallet or carton (HL level T or P); an order shipped without
// pack levels has one pack with no SSCC.
type Pack struct {
	SSCC  string     `json:"sscc,omitempty"`
	Items []ShipItem `json:"items"`
}

// ShipItem is one item (HL level I).
type ShipItem struct {
	LineNumber      string `json:"line_number,omitempty"`
	BuyerItem       string `json:"buyer_item,omitempty"`
	VendorItem      string `json:"vendor_item,omitempty"`
	GTIN            string `json:"gtin,omitempty"`
	QuantityShipped string `json:"quantity_shipped"`
	UOM             string `json:"uom"`
}

// Invoice is an 810.
type Invoice struct {
	Header
	InvoiceNumber     string            `json:"invoice_number"`
	InvoiceDate       string            `json:"invoice_date"`
	PONumber          string            `json:"po_number"`
	Currency          string            `json:"currency,omitempty"`
	TotalAmount       string            `json:"total_amount"`
	Seller            *Party            `json:"seller,omitempty"`
	Lines             []InvoiceLine     `json:"lines"`
	AllowancesCharges []AllowanceCharge `json:"allowances_charges"`
}

// InvoiceLine is one IT1 line.
type InvoiceLine struct {
	LineNumber       string `json:"line_number"`
	BuyerItem        string `json:"buyer_item,omitempty"`
	VendorItem       string `json:"vendor_item,omitempty"`
	QuantityInvoiced string `json:"quantity_invoiced"`
	UOM              string `json:"uom"`
	UnitPrice        string `json:"unit_price"`
}

// AllowanceCharge is one SAC: an allowance reduces the invoice, a charge
// adds to it.
type AllowanceCharge struct {
	Type        string `json:"type"` // allowance or charge
	Code        string `json:"code,omitempty"`
	Amount      string `json:"amount"`
	Description string `json:"description,omitempty"`
}

// Document is any canonical document.
type Document interface {
	Head() *Header
}

// Head returns the common header.
func (h *Header) Head() *Header { return h }

// New returns an empty document of a kind.
func New(kind string) (Document, error) {
	switch kind {
	case KindPurchaseOrder:
		return &PurchaseOrder{Header: Header{Kind: kind}}, nil
	case KindPOAcknowledgement:
		return &POAcknowledgement{Header: Header{Kind: kind}}, nil
	case KindShipNotice:
		return &ShipNotice{Header: Header{Kind: kind}}, nil
	case KindInvoice:
		return &Invoice{Header: Header{Kind: kind}}, nil
	}
	return nil, fmt.Errorf("unknown document kind %q (want one of %v)", kind, Kinds())
}

// Kinds lists the document kinds.
func Kinds() []string {
	k := []string{KindPurchaseOrder, KindPOAcknowledgement, KindShipNotice, KindInvoice}
	sort.Strings(k)
	return k
}

//go:embed schemas/*.json
var schemas embed.FS

// JSONSchema returns the JSON Schema (draft 2020-12) of a kind.
func JSONSchema(kind string) ([]byte, error) {
	b, err := schemas.ReadFile("schemas/" + kind + ".json")
	if err != nil {
		return nil, fmt.Errorf("no JSON Schema for kind %q (want one of %v)", kind, Kinds())
	}
	return b, nil
}
