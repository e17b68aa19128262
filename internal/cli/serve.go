package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ccbulk/ccbulk/internal/runs"
	"github.com/ccbulk/ccbulk/internal/server"
	"github.com/ccbulk/ccbulk/internal/web"
	"github.com/ccbulk/ccbulk/sheet"
)

// shutdownGrace is how long serve waits, once stopped, for the requests
// in flight to end (their runs are cancelled at once and roll back).
const shutdownGrace = 30 * time.Second

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the HTTP API (and the web pages) on the same database as the command line",
		Description: "Programs call the API with a token from 'ccbulk token create' (docs/API.md). SIGINT or SIGTERM\n" +
			"stops the server: runs in flight are cancelled (rolled back, their batches failed), then it exits.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "the address to listen on"},
			&cli.StringFlag{Name: "base-url", Usage: "the server's address as clients reach it, report_url is under it (default: the address a request was sent to)"},
			&cli.StringFlag{Name: "oidc-issuer", Usage: "the OpenID Connect provider people sign in with"},
			&cli.StringFlag{Name: "oidc-client-id", Usage: "ccbulk's client id at the provider"},
			&cli.StringFlag{Name: "oidc-client-secret-file", Usage: "a file holding ccbulk's client secret at the provider"},
			&cli.StringFlag{Name: "max-upload", Usage: "refuse an upload larger than this (413), e.g. 200MiB", DefaultText: "1GiB"},
			&cli.IntFlag{Name: "max-runs", Value: server.DefaultMaxRuns, Usage: "imports and undos that run at once; the others wait for a turn (the database pool is sized for them)"},
			&cli.DurationFlag{Name: "upload-idle", Value: server.DefaultUploadIdle, Usage: "answer 408 and fail the run when an upload pauses longer"},
			&cli.IntFlag{Name: "max-rows", Usage: "refuse a file with more data rows (F-LIMIT)", Value: sheet.DefaultLimits.MaxRows},
			&cli.IntFlag{Name: "max-columns", Usage: "refuse a header row with more cells (F-LIMIT)", Value: sheet.DefaultLimits.MaxColumns},
			&cli.StringFlag{Name: "max-unzip-size", Usage: "refuse an XLSX that decompresses to more (F-LIMIT), e.g. 8GiB", DefaultText: "4GiB"},
			&cli.StringFlag{Name: "max-xml-size", Usage: "refuse an XLSX part held in memory that is larger (F-LIMIT)", DefaultText: "16MiB"},
		},
		Action:      runServe,
		Subcommands: []*cli.Command{serveLinkCommand()},
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("serve takes no arguments")
	}
	limits, err := limitsFlags(c)
	if err != nil {
		return err
	}
	maxUpload := int64(server.DefaultMaxUpload)
	if c.IsSet("max-upload") {
		if maxUpload, err = sheet.ParseSize(c.String("max-upload")); err != nil || maxUpload <= 0 {
			return usagef("--max-upload %q: write a size like 200MiB or 1GiB", c.String("max-upload"))
		}
	}
	log, err := serveLogger(c)
	if err != nil {
		return err
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	maxRuns := c.Int("max-runs")
	if maxRuns < 1 {
		return usagef("--max-runs must be 1 or more, not %d", maxRuns)
	}
	if err := db.SchemaCheck(c.Context); err != nil {
		return err
	}
	oidc := server.OIDC{Issuer: c.String("oidc-issuer"), ClientID: c.String("oidc-client-id"), ClientSecretFile: c.String("oidc-client-secret-file")}
	if err := server.CheckOIDC(&oidc); err != nil {
		return usagef("%v", err)
	}
	baseURL := c.String("base-url")
	if baseURL == "" {
		baseURL = "http://" + c.String("listen")
	}
	// One runs service for the pages and the API: they share its turns.
	svc := &runs.Service{DB: db, Log: log, MaxRuns: maxRuns, Running: limitServeMemory()}
	// Applies whose server stopped while they ran (their lease expired)
	// are marked failed, now and periodically: any serve process does it.
	go svc.KeepSweeping(c.Context)
	pages, err := web.New(web.Config{DB: db, BaseURL: baseURL, Logger: log, Runs: svc, Context: c.Context, MaxUpload: maxUpload,
		OIDC: web.OIDCConfig{Issuer: oidc.Issuer, ClientID: oidc.ClientID, ClientSecret: oidc.ClientSecret}})
	if err != nil {
		return usagef("%v", err)
	}
	h, err := server.New(server.Config{DB: db, BaseURL: c.String("base-url"), MaxUpload: maxUpload, MaxRuns: maxRuns, UploadIdle: c.Duration("upload-idle"), Limits: limits, Log: log,
		OIDC: oidc, Web: pages, Runs: svc})
	if err != nil {
		return usagef("%v", err)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// Requests run under the command's context: SIGINT or SIGTERM
		// cancels the runs in flight.
		BaseContext: func(net.Listener) context.Context { return c.Context },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "listen", ln.Addr().String(), "base_url", c.String("base-url"))
	fmt.Fprintf(c.App.ErrWriter, "ccbulk: serving on http://%s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-c.Done():
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(ctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	log.Info("stopped")
	fmt.Fprintln(c.App.ErrWriter, "ccbulk: stopped")
	return err
}

// serveLogger is the server's log: one line per request at level Info,
// shown unless --quiet (a server's requests are what its log is for).
func serveLogger(c *cli.Context) (*slog.Logger, error) {
	level := slog.LevelInfo
	if globalBool(c, "quiet") {
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f := globalString(c, "log-format"); f {
	case "text", "":
		return slog.New(slog.NewTextHandler(c.App.ErrWriter, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(c.App.ErrWriter, opts)), nil
	default:
		return nil, usagef("--log-format must be text or json, not %q", f)
	}
}
