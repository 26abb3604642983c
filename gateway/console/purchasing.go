package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/gateway/recon"
	"github.com/edigate/edigate/gateway/report"
)

// Purchasing is what the purchasing routes need: the store's orders and
// exceptions, and the service that runs a reconciliation pass and hands
// decisions to the ERP.
type Purchasing struct {
	Store gateway.Purchasing
	// Documents are the canonical documents of a PO's chain.
	Documents interface {
		OrderDocuments(ctx context.Context, partner, poNumber string) ([]*gateway.StoredDocument, error)
	}
	// Decided is called after buyers accepted or rejected exceptions, to
	// write the decisions back to the ERP.
	Decided func(ctx context.Context)
	// ReportDir holds the nightly reports.
	ReportDir string
}

func (s *Server) purchasingRoutes(api *gin.RouterGroup) {
	if s.Purchasing == nil {
		return
	}
	api.GET("/purchase-orders", s.listOrders)
	api.GET("/purchase-orders/:id", s.getOrder)
	api.GET("/exceptions", s.listExceptions)
	api.GET("/exceptions/:id", s.getException)
	for _, a := range []string{"accept", "reject", "assign", "comment", "resolve"} {
		api.POST("/exceptions/:id/"+a, s.actOnException(a))
		api.POST("/exceptions/"+a, s.actOnExceptions(a)) // bulk
	}
	api.GET("/erp/imports", s.listImports)
	api.GET("/reports", s.listReports)
	api.GET("/reports/:file", s.getReport)
}

func paging(c *gin.Context) (limit, offset int, err error) {
	for _, p := range []struct {
		name string
		v    *int
	}{{"limit", &limit}, {"offset", &offset}} {
		if q := c.Query(p.name); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 0 {
				return 0, 0, gateway.Errorf(gateway.EINVALID, "%s %q is not a non-negative number", p.name, q)
			}
			*p.v = n
		}
	}
	if limit > 1000 {
		limit = 1000
	}
	return limit, offset, nil
}

func (s *Server) listOrders(c *gin.Context) {
	limit, offset, err := paging(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	orders, err := s.Purchasing.Store.Orders(c.Request.Context(), gateway.OrderFilter{Partner: c.Query("partner"), PONumber: c.Query("po_number"), Limit: limit, Offset: offset})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"purchase_orders": orders})
}

// orderChain is a purchase order with everything that happened to it.
type orderChain struct {
	*gateway.Order
	History    []gateway.OrderVersion `json:"history"`
	Sent850    *gateway.SentOrder     `json:"sent_850"` // with the 997/999 verdict
	Documents  []chainDocument        `json:"documents"`
	Exceptions []*gateway.Exception   `json:"open_exceptions"`
}

type chainDocument struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	Set        string          `json:"set"`
	MessageID  string          `json:"message_id"`
	ReceivedAt time.Time       `json:"received_at"`
	Document   json.RawMessage `json:"document"`
}

// setOf names the X12 set of each document kind, for people.
var setOf = map[string]string{
	"purchase_order": "850", "po_acknowledgement": "855", "ship_notice": "856", "invoice": "810",
}

func (s *Server) getOrder(c *gin.Context) {
	ctx := c.Request.Context()
	o, err := s.Purchasing.Store.Order(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := orderChain{Order: o, Documents: []chainDocument{}}
	if out.History, err = s.Purchasing.Store.OrderHistory(ctx, o.ID); err != nil {
		s.fail(c, err)
		return
	}
	sent, err := s.Purchasing.Store.SentFor(ctx, o.Partner, o.PONumber)
	switch {
	case err == nil:
		out.Sent850 = sent
	case !errors.Is(err, gateway.ErrNotFound):
		s.fail(c, err)
		return
	}
	if s.Purchasing.Documents != nil {
		docs, err := s.Purchasing.Documents.OrderDocuments(ctx, o.Partner, o.PONumber)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, d := range docs {
			out.Documents = append(out.Documents, chainDocument{ID: d.ID, Kind: d.Kind, Set: setOf[d.Kind], MessageID: d.MessageID, ReceivedAt: d.CreatedAt, Document: d.Document})
		}
	}
	if out.Exceptions, _, err = s.Purchasing.Store.Exceptions(ctx, gateway.ExceptionFilter{Partner: o.Partner, PONumber: o.PONumber, Status: gateway.ExceptionOpen, Limit: 1000}); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) listExceptions(c *gin.Context) {
	limit, offset, err := paging(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := gateway.ExceptionFilter{
		Partner: c.Query("partner"), PONumber: c.Query("po_number"), Rule: c.Query("rule"), Status: c.Query("status"),
		Assignee: c.Query("assignee"), Sort: c.Query("sort"), Limit: limit, Offset: offset,
	}
	if f.Assignee == "" {
		f.Assignee = c.Query("buyer")
	}
	if f.Rule != "" && !slices.Contains(recon.Rules(), f.Rule) {
		s.fail(c, gateway.Errorf(gateway.EINVALID, "unknown rule %q (want one of %s)", f.Rule, strings.Join(recon.Rules(), ", ")))
		return
	}
	for _, p := range []struct {
		name string
		v    *time.Duration
	}{{"min_age", &f.OlderThan}, {"max_age", &f.NewerThan}} {
		if q := c.Query(p.name); q != "" {
			d, err := parseAge(q)
			if err != nil {
				s.fail(c, gateway.Errorf(gateway.EINVALID, "%s %q: %v", p.name, q, err))
				return
			}
			*p.v = d
		}
	}
	list, total, err := s.Purchasing.Store.Exceptions(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"exceptions": list, "total": total, "limit": limitOr(f.Limit), "offset": f.Offset})
}

func limitOr(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// parseAge reads a Go duration or a number of days ("3d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, errors.New("want a duration such as 36h or 3d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a duration such as 36h or 3d")
	}
	return d, nil
}

func (s *Server) getException(c *gin.Context) {
	e, err := s.Purchasing.Store.Exception(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

// actionBody is the JSON body of an action; ids is for bulk actions.
type actionBody struct {
	IDs      []string `json:"ids"`
	Comment  string   `json:"comment"`
	Assignee string   `json:"assignee"`
}

func (s *Server) readAction(c *gin.Context) (actionBody, error) {
	var b actionBody
	if c.Request.ContentLength == 0 {
		return b, nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, gateway.Errorf(gateway.EINVALID, "the body must be JSON with comment, assignee (and ids for bulk actions): %v", err)
	}
	return b, nil
}

func (s *Server) actor(c *gin.Context) string {
	if name := c.GetString("token_name"); name != "" {
		return name
	}
	return "api"
}

func (s *Server) actOnException(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := s.readAction(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		e, err := s.Purchasing.Store.ActOnException(c.Request.Context(), c.Param("id"), gateway.ExceptionAction{
			Action: action, Actor: s.actor(c), Comment: b.Comment, Assignee: b.Assignee,
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		s.decided(c, action)
		c.JSON(http.StatusOK, e)
	}
}

// bulkResult is one exception's outcome in a bulk action.
type bulkResult struct {
	ID        string             `json:"id"`
	Exception *gateway.Exception `json:"exception,omitempty"`
	Error     *bulkError         `json:"error,omitempty"`
}

type bulkError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// actOnExceptions applies one action to many exceptions; each succeeds or
// fails on its own, and the answer says which.
func (s *Server) actOnExceptions(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := s.readAction(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if len(b.IDs) == 0 {
			s.fail(c, gateway.Errorf(gateway.EINVALID, "a bulk %s needs \"ids\": the exceptions to act on", action))
			return
		}
		results := make([]bulkResult, 0, len(b.IDs))
		failed := 0
		for _, id := range b.IDs {
			e, err := s.Purchasing.Store.ActOnException(c.Request.Context(), id, gateway.ExceptionAction{
				Action: action, Actor: s.actor(c), Comment: b.Comment, Assignee: b.Assignee,
			})
			if err != nil {
				failed++
				msg := err.Error()
				var ge *gateway.Error
				if errors.As(err, &ge) {
					msg = ge.Message
				}
				results = append(results, bulkResult{ID: id, Error: &bulkError{Code: gateway.ErrorCode(err), Message: msg}})
				continue
			}
			results = append(results, bulkResult{ID: id, Exception: e})
		}
		status := http.StatusOK
		if failed == len(b.IDs) {
			status = http.StatusUnprocessableEntity
		} else {
			s.decided(c, action) // only when something was decided
		}
		c.JSON(status, gin.H{"results": results, "failed": failed})
	}
}

func (s *Server) decided(c *gin.Context, action string) {
	if (action == "accept" || action == "reject") && s.Purchasing.Decided != nil {
		s.Purchasing.Decided(c.Request.Context())
	}
}

// listImports shows the ERP import runs, newest first, with the rows each
// refused (file, line and column).
func (s *Server) listImports(c *gin.Context) {
	limit, offset, err := paging(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	runs, err := s.Purchasing.Store.Imports(c.Request.Context(), limit, offset)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"imports": runs})
}

func (s *Server) listReports(c *gin.Context) {
	if s.Purchasing.ReportDir == "" {
		c.JSON(http.StatusOK, gin.H{"reports": []report.Entry{}})
		return
	}
	list, err := report.List(s.Purchasing.ReportDir)
	if err != nil {
		s.fail(c, err)
		return
	}
	if list == nil {
		list = []report.Entry{}
	}
	// Files by name, to fetch from /api/v1/reports/NAME.
	for i := range list {
		for j, f := range list[i].Files {
			list[i].Files[j] = filepath.Base(f)
		}
	}
	c.JSON(http.StatusOK, gin.H{"reports": list})
}

// getReport serves one report file by its base name.
func (s *Server) getReport(c *gin.Context) {
	name := c.Param("file")
	if s.Purchasing.ReportDir == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		s.fail(c, gateway.Errorf(gateway.ENOTFOUND, "no report %q", name))
		return
	}
	path := filepath.Join(s.Purchasing.ReportDir, name)
	if _, err := os.Stat(path); err != nil {
		s.fail(c, gateway.Errorf(gateway.ENOTFOUND, "no report %q", name))
		return
	}
	switch filepath.Ext(name) {
	case ".html":
		c.Header("Content-Type", "text/html; charset=utf-8")
	case ".csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
	}
	c.File(path)
}
