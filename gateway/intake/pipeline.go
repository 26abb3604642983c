// Package intake processes what partners send, once it is stored: it
// validates each message, answers with 997/999/TA1 over the partner's own
// transport, translates the sets into canonical documents and stores them.
// The queue is the store: a crashed worker's message is claimed again when
// its lease expires, and every step is idempotent, so a message is
// processed exactly once or lands in the dead-letter list with its reason.
package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/translate"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/canonical"
	"github.com/edigate/edigate/translators/x12"
)

// maxBackoff caps the delay between two attempts.
const maxBackoff = 6 * time.Hour

// Pipeline is the worker that drains the store's queue.
type Pipeline struct {
	Store      gateway.Store
	Translator *translate.Translator
	// SenderFor returns how acknowledgements reach a partner (its AS2
	// endpoint, its own SFTP server, or our SFTP outbound folder).
	SenderFor func(p *partners.Partner) gateway.Sender
	// Arrived, when set, is told of each message's stored documents and of
	// the 997/999s it held (reconciliation); an error retries the message,
	// which is safe: documents are stored idempotently.
	Arrived func(ctx context.Context, m *gateway.Message, docs []canonical.Document, acks []*x12.FunctionalAck) error
	Logger  *slog.Logger
	Now     func() time.Time

	Lease       time.Duration // how long a claim lasts (default 2m)
	MaxAttempts int           // default 5, or the partner's sla.retry.attempts
	Backoff     time.Duration // first retry delay (default 30s, or the partner's), doubled each time
	Poll        time.Duration // how often to look for due messages when not woken (default 1s)

	wake chan struct{}
}

// Wake tells the worker that a message was received.
func (p *Pipeline) Wake() {
	if p.wake == nil {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Init prepares the wake-up channel; call it before Run and Wake.
func (p *Pipeline) Init() {
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
}

// Run processes messages until ctx is done.
func (p *Pipeline) Run(ctx context.Context) error {
	p.Init()
	poll := p.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		for {
			did, err := p.ProcessOne(ctx)
			if err != nil {
				p.log().Error("processing queue", "err", err)
				break
			}
			if !did || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-time.After(poll):
		}
	}
}

// ProcessOne claims and processes the next due message. It reports whether
// there was one.
func (p *Pipeline) ProcessOne(ctx context.Context) (bool, error) {
	lease := p.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	m, err := p.Store.ClaimNext(ctx, p.now(), lease)
	if errors.Is(err, gateway.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	log := p.log().With("message_id", m.ID, "partner_id", m.Partner, "correlation_id", m.CorrelationID)
	attempts := m.Attempts // this claim counted
	maxAttempts, backoff := p.retryPolicy(m.Partner)
	var perr error
	var outcome gateway.MessageUpdate
	if attempts > maxAttempts {
		// Earlier attempts ended without a word: the worker died on it.
		perr = fmt.Errorf("processing did not finish in %d attempts (the worker stopped while processing it)", attempts-1)
	} else {
		outcome, perr = p.processSafely(ctx, m, log)
	}
	// The closing update must happen even when ctx was cancelled meanwhile.
	ctx = context.WithoutCancel(ctx)
	if perr == nil {
		return true, p.Store.UpdateMessage(ctx, m.ID, outcome)
	}
	// A failed attempt: retry with backoff, or give up.
	u := gateway.MessageUpdate{Errors: []string{perr.Error()}}
	if attempts >= maxAttempts {
		dead := gateway.StateDead
		u.State = &dead
		u.Errors = append(u.Errors, fmt.Sprintf("dead-lettered after %d attempts", attempts))
		log.Error("message dead-lettered", "attempts", attempts, "err", perr)
	} else {
		delay := time.Duration(min(float64(backoff)*math.Pow(2, float64(attempts-1)), float64(maxBackoff)))
		next := p.now().Add(delay)
		u.NextAttempt = &next
		log.Warn("processing failed; will retry", "attempt", attempts, "next_attempt", next, "err", perr)
	}
	return true, p.Store.UpdateMessage(ctx, m.ID, u)
}

func (p *Pipeline) retryPolicy(partnerID string) (int, time.Duration) {
	attempts, backoff := p.MaxAttempts, p.Backoff
	if attempts <= 0 {
		attempts = 5
	}
	if backoff <= 0 {
		backoff = 30 * time.Second
	}
	if pt, ok := p.Translator.Partners.ByID(partnerID); ok {
		if pt.SLA.Retry.Attempts > 0 {
			attempts = pt.SLA.Retry.Attempts
		}
		if d, err := time.ParseDuration(pt.SLA.Retry.Backoff); err == nil && d > 0 {
			backoff = d
		}
	}
	return attempts, backoff
}

// storeAllocator hands out the partner's outbound control numbers.
type storeAllocator struct {
	store   gateway.Store
	partner string
}

func (a storeAllocator) NextControl(_, kind string) (int64, error) {
	return a.store.NextControl(a.partner, kind)
}

// processSafely is process, with a panic (a bug that some input reached)
// turned into a failed attempt instead of the end of the gateway: the
// message is retried and then dead-lettered like any other failure, and
// the stack goes to the log.
func (p *Pipeline) processSafely(ctx context.Context, m *gateway.Message, log *slog.Logger) (u gateway.MessageUpdate, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("processing panicked", "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: internal error while processing this message (a bug; the stack is in the log): %v", messageFile(m), v)
		}
	}()
	return p.process(ctx, m, log)
}

// messageFile names a message's payload in errors: the partner's folder
// and the file's name as received (the message ID when it had none).
func messageFile(m *gateway.Message) string {
	return m.Partner + "/" + cmp.Or(m.Filename, m.ID)
}

// process runs one message through validation, acknowledgement and
// translation, and says what the message's row should become. An error
// means "try again later".
func (p *Pipeline) process(ctx context.Context, m *gateway.Message, log *slog.Logger) (gateway.MessageUpdate, error) {
	state := func(s string) *string { return &s }
	pt, ok := p.Translator.Partners.ByID(m.Partner)
	if !ok {
		// The transport authenticated a partner that is gone, or the file
		// came through the API: nothing safe to do with it.
		return gateway.MessageUpdate{State: state(gateway.StateRejected), Errors: []string{fmt.Sprintf("no partner %q in the partner folder: the message is kept but not processed", m.Partner)}}, nil
	}
	// First pass: which interchanges does it hold, from whom? A partner
	// sends only its own interchanges; a repeated ISA13 from the same
	// partner makes the whole message a duplicate.
	found, err := p.interchanges(ctx, m)
	if err != nil {
		return gateway.MessageUpdate{}, err
	}
	controls := make([]string, len(found))
	for i, ix := range found {
		controls[i] = ix.control
	}
	q, id, _ := pt.ISA()
	for _, ix := range found {
		if ix.sender != q+":"+id {
			return gateway.MessageUpdate{State: state(gateway.StateRejected), Interchanges: controls, Errors: []string{fmt.Sprintf(
				"%s:%d: partner %s (x12.isa %s:%s) sent interchange %s from %s; a partner may only send its own interchanges, so the message is refused (nothing acknowledged or recorded)",
				messageFile(m), ix.offset, pt.ID, q, id, ix.control, ix.sender)}}, nil
		}
	}
	for _, ctl := range controls {
		earlier, err := p.Store.RecordInterchange(ctx, pt.ID, ctl, m.ID)
		if err != nil {
			return gateway.MessageUpdate{}, err
		}
		if earlier != "" {
			log.Info("duplicate interchange: not processed again", "isa_control", ctl, "duplicate_of", earlier)
			return gateway.MessageUpdate{State: state(gateway.StateDuplicate), DuplicateOf: &earlier, Interchanges: controls,
				Errors: []string{fmt.Sprintf("interchange %s was already received in message %s", ctl, earlier)}}, nil
		}
	}
	// Second pass: validate, acknowledge and translate.
	rc, err := p.Store.Payload(ctx, m)
	if err != nil {
		return gateway.MessageUpdate{}, fmt.Errorf("opening payload: %w", err)
	}
	defer rc.Close()
	ack := &x12.Acknowledger{Alloc: storeAllocator{p.Store, pt.ID}, Now: p.now, Force: pt.X12.Acknowledgement.Type, TA1: pt.X12.Acknowledgement.TA1, Registry: p.Translator.Registry}
	res, err := p.Translator.Inbound(rc, translate.Options{File: messageFile(m), CorrelationID: m.CorrelationID, Ack: ack, Sender: pt.ID})
	if err != nil {
		return gateway.MessageUpdate{}, fmt.Errorf("reading payload: %w", err)
	}
	if err := ack.Err(); err != nil {
		return gateway.MessageUpdate{}, err
	}
	var problems []string
	for _, pr := range res.Problems {
		problems = append(problems, pr.Error())
	}
	// Acknowledge over the partner's transport.
	if sender := p.SenderFor(pt); sender != nil {
		for i, a := range ack.Acks {
			// Named after what it answers, not after our control number, so
			// that a retry after a crash replaces the file instead of adding
			// a second acknowledgement.
			fname := fmt.Sprintf("%s_%s_%s_%d.x12", strings.Join(a.Kinds, "-"), a.Interchange, strings.TrimPrefix(m.ID, "msg_"), i+1)
			if err := sender.Send(ctx, pt.ID, fname, a.Bytes); err != nil {
				return gateway.MessageUpdate{}, fmt.Errorf("sending acknowledgement %s to %s: %w", fname, pt.ID, err)
			}
			log.Info("acknowledgement sent", "file", fname, "kinds", a.Kinds, "isa_control", a.Interchange)
		}
	}
	if err := p.Store.SaveDocuments(ctx, m.ID, res.Documents); err != nil {
		return gateway.MessageUpdate{}, fmt.Errorf("storing documents: %w", err)
	}
	if p.Arrived != nil {
		if err := p.Arrived(ctx, m, res.Documents, res.Acks); err != nil {
			return gateway.MessageUpdate{}, fmt.Errorf("reconciling: %w", err)
		}
	}
	for _, d := range res.Documents {
		log.Info("document stored", "document_id", d.Head().ID, "kind", d.Head().Kind, "st_control", d.Head().Source.TransactionControl)
	}
	if len(problems) > 0 {
		log.Warn("message has errors", "errors", len(problems))
	}
	return gateway.MessageUpdate{State: state(gateway.StateTranslated), Interchanges: controls, Errors: problems}, nil
}

// interchanges lists the interchanges in a message's payload: each one's
// ISA13, sender (QUAL:ID) and byte offset.
func (p *Pipeline) interchanges(ctx context.Context, m *gateway.Message) (found []interchange, err error) {
	rc, err := p.Store.Payload(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("opening payload: %w", err)
	}
	defer rc.Close()
	rd := x12.NewReader(rc)
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			return found, nil
		}
		if err != nil {
			var pe *x12.ParseError
			if errors.As(err, &pe) {
				return found, nil // content errors are for the validator to report
			}
			return nil, err
		}
		if string(seg.ID()) == "ISA" {
			found = append(found, interchange{
				control: strings.TrimSpace(string(seg.Element(13))),
				sender:  strings.TrimSpace(string(seg.Element(5))) + ":" + strings.TrimSpace(string(seg.Element(6))),
				offset:  seg.Offset,
			})
		}
	}
}

// interchange is where an interchange stands in a payload and who sent it.
type interchange struct {
	control, sender string
	offset          int64
}
