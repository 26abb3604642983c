package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// OrderLine is one line of a purchase order as the ERP holds it. Decimal
// quantities and prices are strings holding a decimal number, as in the
// canonical documents; dates are YYYY-MM-DD.
type OrderLine struct {
	LineNumber    string `json:"line_number"`
	BuyerItem     string `json:"buyer_item,omitempty"`
	VendorItem    string `json:"vendor_item,omitempty"`
	Quantity      string `json:"quantity"`
	UOM           string `json:"uom"`
	UnitPrice     string `json:"unit_price,omitempty"`
	RequestedDate string `json:"requested_date,omitempty"`
}

// Order is a purchase order imported from the ERP: what the distributor
// actually ordered, which acknowledgements, ship notices and invoices are
// reconciled against.
type Order struct {
	ID       string      `json:"id"` // OrderID(partner, po_number), stable across versions
	Partner  string      `json:"partner"`
	PONumber string      `json:"po_number"`
	PODate   string      `json:"po_date"`
	Lines    []OrderLine `json:"lines"`
	// Version counts the distinct contents imported (1 for a new PO); an
	// import with unchanged content keeps the version.
	Version    int       `json:"version"`
	Source     string    `json:"source,omitempty"` // the export file it last came from
	ImportedAt time.Time `json:"imported_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// LinesJSON, when set, holds the lines not yet decoded (EachCase
	// leaves decoding to its caller, which may do it on many cores);
	// DecodeLines fills Lines from it.
	LinesJSON json.RawMessage `json:"-"`
}

// DecodeLines fills Lines from LinesJSON, if it is set.
func (o *Order) DecodeLines() error {
	if o.LinesJSON == nil {
		return nil
	}
	if err := json.Unmarshal(o.LinesJSON, &o.Lines); err != nil {
		return fmt.Errorf("purchase order %s: lines: %w", o.ID, err)
	}
	o.LinesJSON = nil
	return nil
}

// OrderID is the stable ID of a partner's purchase order: "po_acme.4500012345".
// A partner id has no ".", so no two partners' POs share an ID.
func OrderID(partner, poNumber string) string { return "po_" + partner + "." + poNumber }

// OrderVersion is one past content of a purchase order.
type OrderVersion struct {
	Version    int         `json:"version"`
	PODate     string      `json:"po_date"`
	Lines      []OrderLine `json:"lines"`
	Source     string      `json:"source,omitempty"`
	ImportedAt time.Time   `json:"imported_at"`
}

// ImportResult says what an import changed.
type ImportResult struct {
	Created   int `json:"created"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	// Orders are the IDs of the orders created or changed; New those created.
	Orders []string `json:"orders,omitempty"`
	New    []string `json:"new,omitempty"`
}

// ImportRun is one ERP import as it was recorded: what it changed and the
// rows it refused.
type ImportRun struct {
	ID        int64     `json:"id"`
	Source    string    `json:"source"`
	At        time.Time `json:"at"`
	Created   int       `json:"created"`
	Changed   int       `json:"changed"`
	Unchanged int       `json:"unchanged"`
	Sent      int       `json:"sent_850s"`
	Problems  []string  `json:"problems"`
}

// OrderFilter selects orders; zero fields match everything.
type OrderFilter struct {
	Partner  string
	PONumber string
	Limit    int // default 100
	Offset   int
}

// Outbound 850 states.
const (
	SentSending  = "sending"  // claimed: being written and handed to the transport (retried when stale)
	SentPending  = "pending"  // translated and handed to the transport; no 997/999 yet
	SentAccepted = "accepted" // the partner's 997/999 accepted the set
	SentRejected = "rejected" // the partner's 997/999 rejected the set
)

// SentOrder is an 850 we sent for an ERP purchase order, and what the
// partner's functional acknowledgement said of it.
type SentOrder struct {
	Partner      string    `json:"partner"`
	PONumber     string    `json:"po_number"`
	Filename     string    `json:"filename"`
	Interchange  string    `json:"interchange_control"`
	Group        string    `json:"group_control"`
	Transaction  string    `json:"transaction_control"`
	SentAt       time.Time `json:"sent_at"`
	AckStatus    string    `json:"ack_status"` // SentSending, SentPending, SentAccepted or SentRejected
	AckCodes     []string  `json:"ack_codes,omitempty"`
	AckedAt      time.Time `json:"acked_at,omitzero"`
	AckMessageID string    `json:"ack_message_id,omitempty"`
	// Payload is the interchange, kept to send the same bytes again.
	Payload []byte `json:"-"`
}

// Exception statuses.
const (
	ExceptionOpen     = "open"
	ExceptionAccepted = "accepted" // the buyer accepted the supplier's change
	ExceptionRejected = "rejected" // the buyer rejected it
	ExceptionResolved = "resolved" // settled otherwise, or the condition cleared
)

// Severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one discrepancy found by reconciliation. Key identifies it:
// the same discrepancy found again has the same Key, so reruns never
// duplicate an exception.
type Finding struct {
	Key        string `json:"key"`
	Rule       string `json:"rule"`
	Partner    string `json:"partner"`
	PONumber   string `json:"po_number"`
	LineNumber string `json:"line_number"` // "" for a PO-level finding
	Expected   string `json:"expected"`
	Actual     string `json:"actual"`
	Severity   string `json:"severity"`
	Document   string `json:"document_id,omitempty"` // the canonical document that shows it
	Message    string `json:"message"`
}

// Exception is a finding in the buyers' queue, with its decision history.
type Exception struct {
	ID string `json:"id"`
	Finding
	Status    string           `json:"status"`
	Assignee  string           `json:"assignee"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	History   []ExceptionEvent `json:"history"`
}

// ExceptionEvent is one entry of an exception's append-only history.
type ExceptionEvent struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"` // raised, updated, reopened, cleared, accept, reject, assign, comment, resolve
	Comment string    `json:"comment,omitempty"`
	From    string    `json:"from_status,omitempty"`
	To      string    `json:"to_status,omitempty"`
	Actual  string    `json:"actual,omitempty"` // the finding's actual value at the time
}

// ExceptionFilter selects exceptions; zero fields match everything.
type ExceptionFilter struct {
	Partner   string
	PONumber  string
	Rule      string
	Status    string
	Assignee  string
	OlderThan time.Duration // created at least this long ago
	NewerThan time.Duration // created at most this long ago
	Sort      string        // created_at (default), -created_at, partner, rule, severity, status, po_number
	Limit     int           // default 100
	Offset    int
}

// ExceptionAction is a buyer's action on an exception.
type ExceptionAction struct {
	Action   string // accept, reject, assign, comment, resolve
	Actor    string
	Comment  string
	Assignee string
}

// ApplyResult says what recording a pass's findings changed.
type ApplyResult struct {
	Raised   int `json:"raised"`
	Updated  int `json:"updated"`
	Reopened int `json:"reopened"`
	Cleared  int `json:"cleared"`
}

// Scope names the purchase orders a reconciliation pass looked at; open
// exceptions in scope that the pass no longer finds are cleared.
type Scope struct {
	All    bool
	Orders []PartnerPO
	// Since is when the pass began reading the store. Exceptions changed
	// after it — by another pass, perhaps another process, that
	// read newer documents — are left alone: the newer reading wins.
	Since time.Time
}

// PartnerPO is a partner's PO number.
type PartnerPO struct {
	Partner  string
	PONumber string
}

// Decision is a buyer's decision on an exception, exported for the ERP.
type Decision struct {
	Event       int64     `json:"event"` // the history entry that made it
	ExceptionID string    `json:"exception_id"`
	Rule        string    `json:"rule"`
	Partner     string    `json:"partner"`
	PONumber    string    `json:"po_number"`
	LineNumber  string    `json:"line_number,omitempty"`
	Decision    string    `json:"decision"` // accepted or rejected
	Expected    string    `json:"expected"`
	Actual      string    `json:"actual"`
	Actor       string    `json:"actor"`
	Comment     string    `json:"comment,omitempty"`
	DecidedAt   time.Time `json:"decided_at"`
}

// Purchasing keeps the ERP's purchase orders, the 850s sent for them and
// the reconciliation exceptions. The SQLite store implements it.
type Purchasing interface {
	// ImportOrders records orders from an ERP export: new ones are created,
	// changed ones get a new version (the old one kept as history), and
	// unchanged ones are left alone, so re-importing changes nothing.
	ImportOrders(ctx context.Context, source string, orders []Order) (ImportResult, error)
	// ImportOrdersClaiming also claims, in the same transaction, the 850
	// of each new order whose partner claim accepts (see SentSending).
	ImportOrdersClaiming(ctx context.Context, source string, orders []Order, claim func(partner string) bool) (ImportResult, error)
	// Now is the store's clock: times compared with stored ones come from it.
	Now() time.Time
	// RecordImport keeps an import run; Imports lists them, newest first.
	RecordImport(ctx context.Context, r ImportRun) error
	Imports(ctx context.Context, limit, offset int) ([]ImportRun, error)
	Order(ctx context.Context, id string) (*Order, error)
	OrderHistory(ctx context.Context, id string) ([]OrderVersion, error)
	Orders(ctx context.Context, f OrderFilter) ([]*Order, error)

	// PrepareSend records the bytes and control numbers of a claimed 850
	// before it is handed to the transport.
	PrepareSend(ctx context.Context, s SentOrder) error
	// StaleSends lists claimed 850s not sent since before; RenewSend
	// takes one over (false when another caller did first).
	StaleSends(ctx context.Context, before time.Time) ([]*SentOrder, error)
	RenewSend(ctx context.Context, partner, poNumber string, claimedAt time.Time) (bool, error)
	// RecordSent notes an 850 sent for an order; SentFor returns it
	// (ErrNotFound when none was sent).
	RecordSent(ctx context.Context, s SentOrder) error
	SentFor(ctx context.Context, partner, poNumber string) (*SentOrder, error)
	SentOrders(ctx context.Context) ([]*SentOrder, error)
	// MatchFunctionalAck records a partner's 997/999 verdict on one of our
	// sets, found by group and transaction control numbers; it returns
	// the matched order (ErrNotFound when no 850 of ours has them).
	MatchFunctionalAck(ctx context.Context, partner, group, transaction, status string, codes []string, messageID string) (*SentOrder, error)

	// ApplyFindings records a reconciliation pass: new findings are raised
	// as open exceptions, known ones updated, decided ones reopened when
	// the actual value has changed since the decision, and open ones in
	// scope that were not found again are cleared.
	ApplyFindings(ctx context.Context, scope Scope, findings []Finding, actor string) (ApplyResult, error)
	Exceptions(ctx context.Context, f ExceptionFilter) ([]*Exception, int, error)
	Exception(ctx context.Context, id string) (*Exception, error)
	// ActOnException applies a buyer's action and returns the exception
	// as it now stands.
	ActOnException(ctx context.Context, id string, a ExceptionAction) (*Exception, error)
	// AllExceptions calls fn for every exception with its history.
	AllExceptions(ctx context.Context, fn func(*Exception) error) error
	// PendingDecisions lists accept and reject decisions not yet handed
	// to the ERP; MarkDecisionsExported records that they were.
	PendingDecisions(ctx context.Context) ([]Decision, error)
	MarkDecisionsExported(ctx context.Context, events []int64) error

	// OrderDocuments lists the documents concerning a partner's PO (a ship
	// notice covering several orders is listed for each), oldest first.
	OrderDocuments(ctx context.Context, partner, poNumber string) ([]*StoredDocument, error)
	// EachCase calls fn for every partner's PO known from the ERP, our
	// 850s or documents, in partner and PO number order, with its order
	// (nil when the ERP does not know it), the 850 sent (nil when none)
	// and its documents, oldest first: a full pass in one read.
	EachCase(ctx context.Context, fn func(k PartnerPO, o *Order, s *SentOrder, docs []*StoredDocument) error) error
	// EachDocumentHead calls fn for every document of a kind, oldest
	// first, without its JSON (Document is nil): what a report counts.
	EachDocumentHead(ctx context.Context, kind string, fn func(*StoredDocument) error) error
	// InvoiceNumbers maps each of a partner's invoice documents to the
	// earliest invoice document with the same number (itself when first).
	InvoiceNumbers(ctx context.Context, partner string) (map[string]string, error)
}

// Connector is an ERP's purchasing interface: pull open purchase orders,
// push buyer decisions. The file connector is the first; REST and Tryton
// connectors implement the same interface.
type Connector interface {
	// Pull returns the orders the ERP has ready, and problems with
	// individual rows (each naming its file and line) that did not stop
	// the other rows.
	Pull(ctx context.Context) (orders []Order, problems []error, err error)
	// Commit tells the connector that the orders of the last Pull are
	// stored, so it may let go of them (a file connector moves its files
	// to done/). A crash before Commit means a second Pull of the same
	// orders, which an import ignores.
	Commit(ctx context.Context) error
	// PushDecisions hands buyer decisions to the ERP.
	PushDecisions(ctx context.Context, decisions []Decision) error
}
