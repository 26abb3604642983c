// Package gateway holds the domain of the running service: messages
// received from partners, the durable store and queue they live in, and
// the transports that bring them in and take acknowledgements and orders
// out. Adapters (sqlite, sftp, as2, console) implement these interfaces;
// gateway/cmd/edigate wires them. This package imports only the standard
// library and the canonical document types.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/edigate/edigate/translators/canonical"
)

// Error codes, mapped to HTTP statuses in one table by the console.
const (
	EINVALID  = "invalid"
	ENOTFOUND = "not_found"
	ECONFLICT = "conflict"
	EINTERNAL = "internal"
	EUNAUTH   = "unauthorized"
)

// Error is a domain error with a code for callers and a message for people.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrNotFound is returned when a thing looked up does not exist.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}

// Message states.
const (
	StateReceived     = "received"     // stored durably, waiting for processing
	StateAcknowledged = "acknowledged" // validated; its 997/999/TA1 handed to the partner's transport
	StateTranslated   = "translated"   // canonical documents stored: done
	StateDead         = "dead"         // gave up after the retry limit; see Errors
	StateDuplicate    = "duplicate"    // same payload, ISA13 or AS2 Message-ID as DuplicateOf
	StateRejected     = "rejected"     // refused before processing (unknown partner, not X12)
)

// Transports.
const (
	TransportSFTP     = "sftp"
	TransportSFTPPull = "sftp-pull"
	TransportAS2      = "as2"
	TransportHTTP     = "http"
)

// Receipt is what a transport knows about a payload it received.
type Receipt struct {
	Partner      string // partner ID, already authenticated by the transport
	Transport    string
	Filename     string // the name the partner gave it, if any
	AS2MessageID string // AS2 Message-ID, for duplicate detection
	// CorrelationID, when the caller has one; the store makes one otherwise.
	CorrelationID string
}

// Message is one payload received from a partner, and where it stands.
type Message struct {
	ID            string    `json:"id"`
	CorrelationID string    `json:"correlation_id"`
	Partner       string    `json:"partner"`
	Transport     string    `json:"transport"`
	Filename      string    `json:"filename,omitempty"`
	SHA256        string    `json:"sha256"`
	Size          int64     `json:"size"`
	AS2MessageID  string    `json:"as2_message_id,omitempty"`
	State         string    `json:"state"`
	DuplicateOf   string    `json:"duplicate_of,omitempty"`
	Interchanges  []string  `json:"interchange_controls,omitempty"` // ISA13s found in it
	Attempts      int       `json:"attempts"`
	NextAttempt   time.Time `json:"next_attempt,omitzero"`
	Errors        []string  `json:"errors,omitempty"`
	Documents     []string  `json:"documents,omitempty"` // canonical document IDs produced
	ReceivedAt    time.Time `json:"received_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// MessageFilter selects messages; zero fields match everything.
type MessageFilter struct {
	Partner string
	State   string
	Limit   int // default 100
	Offset  int
}

// MessageUpdate changes a message's processing state. Nil fields are kept.
type MessageUpdate struct {
	State        *string
	Attempts     *int
	NextAttempt  *time.Time
	Errors       []string // appended
	Interchanges []string // replaced when not nil
	DuplicateOf  *string
}

// StoredDocument is a canonical document with where it came from.
type StoredDocument struct {
	ID            string          `json:"id"`
	Kind          string          `json:"kind"`
	Partner       string          `json:"partner"`
	PONumber      string          `json:"po_number,omitempty"`
	MessageID     string          `json:"message_id"`
	CorrelationID string          `json:"correlation_id"`
	CreatedAt     time.Time       `json:"created_at"`
	Document      json.RawMessage `json:"document"`
}

// DocumentFilter selects documents; zero fields match everything.
type DocumentFilter struct {
	Kind     string
	Partner  string
	PONumber string
	Limit    int
	Offset   int
}

// Store keeps messages, their payloads and what processing made of them.
// The promise: when Receive returns, the payload and the message row are on
// disk (fsync'd) and the message will be processed exactly once or end in
// the dead-letter list with its reason.
type Store interface {
	// Receive stores a payload durably and records its message, marking it
	// a duplicate (and not to be processed) when the same partner already
	// sent the same bytes or the same AS2 Message-ID.
	Receive(ctx context.Context, rc Receipt, payload io.Reader) (*Message, error)
	Message(ctx context.Context, id string) (*Message, error)
	MessageByAS2ID(ctx context.Context, partner, as2ID string) (*Message, error)
	Messages(ctx context.Context, f MessageFilter) ([]*Message, error)
	// Payload opens a message's stored bytes.
	Payload(ctx context.Context, m *Message) (io.ReadCloser, error)

	// ClaimNext leases the next message that is due for processing
	// (state received or acknowledged — the latter a worker stopped before
	// translating —, next attempt passed, lease expired) and counts the
	// attempt; ErrNotFound when none is. A crashed worker's lease expires
	// and the message is claimed again, until its attempts run out.
	ClaimNext(ctx context.Context, now time.Time, lease time.Duration) (*Message, error)
	UpdateMessage(ctx context.Context, id string, u MessageUpdate) error
	// Requeue puts a message back for processing (replay).
	Requeue(ctx context.Context, id string) error

	// RecordInterchange notes that partner sent ISA13 control in message
	// msgID; it returns the ID of an earlier message with the same control
	// number, or "" when there is none.
	RecordInterchange(ctx context.Context, partner, control, msgID string) (string, error)

	SaveDocuments(ctx context.Context, messageID string, docs []canonical.Document) error
	Documents(ctx context.Context, f DocumentFilter) ([]*StoredDocument, error)
	Document(ctx context.Context, id string) (*StoredDocument, error)

	// SaveMDN keeps the MDN sent for an AS2 message, to send it again for
	// a duplicate; MDN returns it.
	SaveMDN(ctx context.Context, messageID string, mdn []byte) error
	MDN(ctx context.Context, messageID string) ([]byte, error)

	// NextControl allocates outbound control numbers (kind ISA, GS or ST)
	// per partner; a number is never handed out twice.
	NextControl(partner, kind string) (int64, error)

	// CreateToken stores a new API token (hashed) and returns it;
	// CheckToken returns the token's name.
	CreateToken(ctx context.Context, name string) (string, error)
	CheckToken(ctx context.Context, token string) (string, error)

	Close() error
}

// Sender delivers an outbound file (an acknowledgement, an 850) to a
// partner over the partner's transport.
type Sender interface {
	Send(ctx context.Context, partner, filename string, payload []byte) error
}
