// Package console is edigate's HTTP face: the AS2 endpoint, the JSON API
// under /api/v1, health and metrics. Handlers parse the request, call a
// gateway service and render; they hold no SQL and no X12.
package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edigate/edigate/gateway"
	"github.com/edigate/edigate/partners"
	"github.com/edigate/edigate/translators/x12"
)

// Server serves HTTP.
type Server struct {
	Addr     string
	Store    gateway.Store
	Partners *partners.Directory
	// AS2 handles POST /as2 and GET /as2/certificate; nil disables AS2.
	AS2 http.Handler
	// Received is called after a message was stored (to wake the worker).
	Received func(*gateway.Message)
	Logger   *slog.Logger
	Registry *prometheus.Registry
	MaxBody  int64 // uploads through the API (default 100 MiB)
	// Purchasing serves purchase orders, exceptions and reports; nil
	// leaves those routes out.
	Purchasing *Purchasing

	srv      *http.Server
	ln       net.Listener
	received *prometheus.CounterVec
	bytes    *prometheus.CounterVec
}

// statusOf maps domain error codes to HTTP statuses, in one table.
var statusOf = map[string]int{
	gateway.EINVALID:  http.StatusUnprocessableEntity,
	gateway.ENOTFOUND: http.StatusNotFound,
	gateway.ECONFLICT: http.StatusConflict,
	gateway.EUNAUTH:   http.StatusUnauthorized,
	gateway.EINTERNAL: http.StatusInternalServerError,
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// fail renders an error; internal details are logged, not shown.
func (s *Server) fail(c *gin.Context, err error) {
	code := gateway.ErrorCode(err)
	status := statusOf[code]
	msg := err.Error()
	var ge *gateway.Error
	if errors.As(err, &ge) {
		// Keep what the layers above said ("exception \"exc_1\": not
		// found"), without the code the JSON carries already.
		msg = strings.TrimSuffix(msg, ge.Error()) + ge.Message
	}
	if code == gateway.EINTERNAL {
		s.log().Error("request failed", "path", c.Request.URL.Path, "err", err)
		msg = "internal error"
	}
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": msg}})
}

// Handler builds the routes.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edigate_messages_received_total", Help: "Messages stored, by transport and partner."}, []string{"transport", "partner"})
	s.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edigate_received_bytes_total", Help: "Payload bytes stored, by transport."}, []string{"transport"})
	s.Registry.MustRegister(s.received, s.bytes)
	r.GET("/healthz", s.health)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})))
	if s.AS2 != nil {
		r.POST("/as2", gin.WrapH(s.AS2))
		r.GET("/as2/certificate", gin.WrapH(s.AS2))
	}
	api := r.Group("/api/v1", s.auth)
	api.POST("/messages", s.postMessage)
	api.GET("/messages", s.listMessages)
	api.GET("/messages/:id", s.getMessage)
	api.POST("/messages/:id/replay", s.replayMessage)
	api.GET("/documents", s.listDocuments)
	api.GET("/documents/:id", s.getDocument)
	s.purchasingRoutes(api)
	return r
}

// Counted records a stored message in the metrics (transports call it too).
func (s *Server) Counted(m *gateway.Message) {
	if s.received != nil {
		s.received.WithLabelValues(m.Transport, m.Partner).Inc()
		s.bytes.WithLabelValues(m.Transport).Add(float64(m.Size))
	}
}

// Start listens on Addr and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log().Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// ListenAddr is the address the server is bound to.
func (s *Server) ListenAddr() string { return s.ln.Addr().String() }

// Shutdown stops accepting and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *Server) health(c *gin.Context) {
	if _, err := s.Store.Messages(c.Request.Context(), gateway.MessageFilter{Limit: 1}); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// auth checks the bearer token.
func (s *Server) auth(c *gin.Context) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		s.fail(c, gateway.Errorf(gateway.EUNAUTH, "an API token is required: Authorization: Bearer TOKEN (edigate token create NAME)"))
		return
	}
	name, err := s.Store.CheckToken(c.Request.Context(), tok)
	if err != nil {
		s.fail(c, gateway.Errorf(gateway.EUNAUTH, "the API token is not valid"))
		return
	}
	c.Set("token_name", name)
	c.Next()
}

// postMessage hands in a file as a partner would. The partner is the
// ?partner= query parameter, or the partner whose x12.isa sent the first
// interchange; a sender no partner file knows is refused.
func (s *Server) postMessage(c *gin.Context) {
	limit := s.MaxBody
	if limit <= 0 {
		limit = 100 << 20
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	head := make([]byte, 4096)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.fail(c, gateway.Errorf(gateway.EINVALID, "reading the upload: %v", err))
		return
	}
	head = head[:n]
	partner := c.Query("partner")
	if partner == "" {
		p, err := s.identify(head)
		if err != nil {
			s.fail(c, err)
			return
		}
		partner = p
	} else if _, ok := s.Partners.ByID(partner); !ok {
		s.fail(c, gateway.Errorf(gateway.EINVALID, "no partner %q in the partner folder", partner))
		return
	}
	name := c.Query("filename")
	m, err := s.Store.Receive(c.Request.Context(), gateway.Receipt{Partner: partner, Transport: gateway.TransportHTTP, Filename: name, CorrelationID: c.GetHeader("X-Correlation-ID")}, io.MultiReader(bytes.NewReader(head), body))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, gateway.Errorf(gateway.EINVALID, "the upload is larger than %d bytes", limit))
			return
		}
		s.fail(c, err)
		return
	}
	s.Counted(m)
	s.log().Info("message received", "transport", "http", "partner_id", partner, "message_id", m.ID, "correlation_id", m.CorrelationID, "bytes", m.Size, "state", m.State)
	if s.Received != nil {
		s.Received(m)
	}
	c.JSON(http.StatusCreated, m)
}

// identify finds the partner from the first ISA of an upload.
func (s *Server) identify(head []byte) (string, error) {
	rd := x12.NewReader(bytes.NewReader(head))
	seg, err := rd.Next()
	if err != nil || string(seg.ID()) != "ISA" {
		return "", gateway.Errorf(gateway.EINVALID, "the upload does not start with an X12 interchange (ISA): %v; name the partner with ?partner=ID", err)
	}
	qual, id := strings.TrimSpace(string(seg.Element(5))), strings.TrimSpace(string(seg.Element(6)))
	p, err := s.Partners.FindSender(qual, id, "")
	if err != nil {
		return "", gateway.Errorf(gateway.EINVALID, "%v", err)
	}
	return p.ID, nil
}

func (s *Server) listMessages(c *gin.Context) {
	limit, _ := strconv.Atoi(c.Query("limit"))
	offset, _ := strconv.Atoi(c.Query("offset"))
	ms, err := s.Store.Messages(c.Request.Context(), gateway.MessageFilter{Partner: c.Query("partner"), State: c.Query("state"), Limit: limit, Offset: offset})
	if err != nil {
		s.fail(c, err)
		return
	}
	if ms == nil {
		ms = []*gateway.Message{}
	}
	c.JSON(http.StatusOK, gin.H{"messages": ms})
}

func (s *Server) getMessage(c *gin.Context) {
	m, err := s.Store.Message(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

func (s *Server) replayMessage(c *gin.Context) {
	if err := s.Store.Requeue(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.Store.Message(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if s.Received != nil {
		s.Received(m)
	}
	c.JSON(http.StatusAccepted, m)
}

func (s *Server) listDocuments(c *gin.Context) {
	limit, _ := strconv.Atoi(c.Query("limit"))
	offset, _ := strconv.Atoi(c.Query("offset"))
	ds, err := s.Store.Documents(c.Request.Context(), gateway.DocumentFilter{Kind: c.Query("kind"), Partner: c.Query("partner"), PONumber: c.Query("po_number"), Limit: limit, Offset: offset})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Document)
	}
	c.JSON(http.StatusOK, gin.H{"documents": out})
}

func (s *Server) getDocument(c *gin.Context) {
	d, err := s.Store.Document(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", d.Document)
}
