package sftp

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/internal/fsutil"
	"github.com/edigate/edigate/partners"
)

// Outbox is the gateway.Sender for partners who collect files from our
// server: Send leaves the file in Root/<partner>/outbound, where the
// partner downloads (and removes) it.
type Outbox struct {
	// Root is the Server's Root.
	Root string
	// Partners, when set, limits Send to partners with an SFTP account.
	Partners *partners.Directory
	Logger   *slog.Logger
}

var _ gateway.Sender = (*Outbox)(nil)

// Send writes the file atomically: a partner listing outbound/ sees it
// whole or not at all, and after Send returns it survives a crash.
func (o *Outbox) Send(ctx context.Context, partner, filename string, payload []byte) error {
	if !validName(filename) {
		return gateway.Errorf(gateway.EINVALID, "outbound file name %q must be a plain name (no folders, not hidden)", filename)
	}
	if o.Partners != nil {
		p, ok := o.Partners.ByID(partner)
		if !ok {
			return gateway.Errorf(gateway.ENOTFOUND, "partner %q not found", partner)
		}
		if p.Transports.SFTP == nil {
			return gateway.Errorf(gateway.EINVALID, "partner %s has no SFTP account", partner)
		}
	} else if !validName(partner) {
		return gateway.Errorf(gateway.EINVALID, "partner %q is not a partner id", partner)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(o.Root, partner, outboundDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("outbox for %s: %w", partner, err)
	}
	if err := fsutil.WriteFile(filepath.Join(dir, filename), payload, 0o640); err != nil {
		return fmt.Errorf("outbox for %s: %w", partner, err)
	}
	if o.Logger != nil {
		o.Logger.Info("sftp outbox file ready", "partner_id", partner, "file", filename, "size", len(payload))
	}
	return nil
}
