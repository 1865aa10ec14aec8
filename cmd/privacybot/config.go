package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot/retention"
	"github.com/enemane/privacybot/handlers"
	"github.com/enemane/privacybot/store"
)

// config is everything the server reads from the environment. README's configuration table lists
// the same variables with the same defaults.
type config struct {
	Port           int
	DataDir        string
	MongoURI       string
	MongoDatabase  string
	ChannelSecret  string
	ChannelToken   string
	APIBaseURL     string
	APIDataBaseURL string
	BaseURL        string
	PolicyURL      string
	LogLevel       slog.Level
	LocalMode      bool // no LINE credentials: the built-in simulator plays LINE
	// ListenAddr is where the server listens: every interface with LINE credentials; loopback only in
	// local mode unless LOCAL_MODE_BIND says otherwise.
	ListenAddr string
	// TrustedProxies are the proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); on Fly.io
	// the client address is read from Fly-Client-IP instead.
	TrustedProxies []string
	OnFly          bool
	// Staff handoff (issue 5): business hours, holidays, staff alerts.
	BusinessHours      string   // BUSINESS_HOURS, e.g. "Mon-Fri 09:00-18:00" ("" = always open)
	TimeZone           string   // TZ (default Asia/Tokyo)
	Holidays           []string // HOLIDAYS: comma-separated YYYY-MM-DD
	StaffLineGroupID   string   // STAFF_LINE_GROUP_ID
	StaffWebhookURL    string   // STAFF_WEBHOOK_URL
	StaffWebhookSecret string   // STAFF_WEBHOOK_SECRET (signs the webhook's body)
	// Requests is the personal-data requests' configuration.
	Requests requestConfig
	// Retention is the periods in force (RETENTION over the defaults; see retention.go).
	Retention retention.Policy
	// InstanceID names this process in leases and reports (INSTANCE_ID, default the host name).
	InstanceID string
	// MetricsAddr is where the listener of /metrics listens (METRICS_ADDR, default
	// defaultMetricsAddr; "" for none: METRICS_ADDR=off); MetricsToken is the bearer token of
	// /metrics on the main port, required with a MetricsAddr that is not loopback (METRICS_TOKEN).
	MetricsAddr     string
	MetricsToken    string
	apiBaseExplicit bool
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func loadConfig() (config, error) {
	c := config{
		DataDir:        env("DATA_DIR", "./data"),
		MongoURI:       os.Getenv("MONGODB_URI"),
		MongoDatabase:  env("MONGODB_DATABASE", "privacybot"),
		ChannelSecret:  os.Getenv("LINE_CHANNEL_SECRET"),
		ChannelToken:   os.Getenv("LINE_CHANNEL_ACCESS_TOKEN"),
		APIBaseURL:     env("LINE_API_BASE_URL", "https://api.line.me"),
		APIDataBaseURL: env("LINE_API_DATA_BASE_URL", "https://api-data.line.me"),
	}
	_, c.apiBaseExplicit = os.LookupEnv("LINE_API_BASE_URL")
	port, err := strconv.Atoi(env("PORT", "8080"))
	if err != nil || port <= 0 || port > 65535 {
		return c, fmt.Errorf("PORT must be a TCP port number, got %q", os.Getenv("PORT"))
	}
	c.Port = port
	c.BaseURL = strings.TrimRight(env("BASE_URL", fmt.Sprintf("http://localhost:%d", port)), "/")
	c.PolicyURL = env("POLICY_URL", c.BaseURL+"/policy")
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	c.loadHandoffConfig()
	if c.StaffWebhookURL != "" && len(c.StaffWebhookSecret) < 16 {
		return c, fmt.Errorf("STAFF_WEBHOOK_URL needs STAFF_WEBHOOK_SECRET (16 characters or more) to sign the alerts")
	}
	if c.Requests, err = loadRequestConfig(); err != nil {
		return c, err
	}
	if c.Retention, err = loadRetention(c.Requests.LinkDays); err != nil {
		return c, err
	}
	if c.MetricsAddr, c.MetricsToken, err = loadMetricsConfig(); err != nil {
		return c, err
	}
	c.InstanceID = os.Getenv("INSTANCE_ID")
	if c.InstanceID == "" {
		c.InstanceID, _ = os.Hostname()
	}
	c.OnFly = os.Getenv("FLY_APP_NAME") != "" || os.Getenv("FLY_MACHINE_ID") != ""
	for _, p := range strings.Split(os.Getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if err := handlers.ValidProxies(c.TrustedProxies); err != nil {
		return c, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	c.ListenAddr = fmt.Sprintf(":%d", port)
	switch {
	case c.ChannelSecret == "" && c.ChannelToken == "":
		if err := c.localModeAllowed(); err != nil {
			return c, err
		}
		c.LocalMode = true
		c.ChannelSecret, c.ChannelToken = randomHex(16), randomHex(24)
		if !c.apiBaseExplicit {
			c.APIBaseURL = fmt.Sprintf("http://127.0.0.1:%d/linesim", port)
			c.APIDataBaseURL = c.APIBaseURL
		}
		c.ListenAddr = net.JoinHostPort(env("LOCAL_MODE_BIND", "127.0.0.1"), strconv.Itoa(port))
	case c.ChannelSecret == "" || c.ChannelToken == "":
		return c, fmt.Errorf("set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN, or neither (local mode)")
	}
	return c, nil
}

// localModeAllowed refuses local mode (a simulator anyone reaching the port can drive, and a console
// admin whose password is printed to the log) where the server is plainly deployed: on Fly.io, or
// behind a public https BASE_URL. Such a deployment forgot its LINE secrets.
func (c config) localModeAllowed() error {
	const hint = "; set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (on Fly.io: fly secrets set …). " +
		"Local mode, with its simulator and printed admin password, is for a developer's machine"
	switch {
	case c.OnFly:
		return fmt.Errorf("no LINE credentials on a Fly.io machine%s", hint)
	case strings.HasPrefix(c.BaseURL, "https://"):
		return fmt.Errorf("no LINE credentials and BASE_URL is %s%s", c.BaseURL, hint)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadHandoffConfig reads the staff handoff's variables.
func (c *config) loadHandoffConfig() {
	c.BusinessHours = os.Getenv("BUSINESS_HOURS")
	c.TimeZone = env("TZ", "Asia/Tokyo")
	for _, d := range strings.Split(os.Getenv("HOLIDAYS"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.Holidays = append(c.Holidays, d)
		}
	}
	c.StaffLineGroupID = os.Getenv("STAFF_LINE_GROUP_ID")
	c.StaffWebhookURL = os.Getenv("STAFF_WEBHOOK_URL")
	c.StaffWebhookSecret = os.Getenv("STAFF_WEBHOOK_SECRET")
}

// storeConfig is the store as the command-line tools open it (the server adds its log and the
// retention policy): quiet, for their output is the tool's.
func storeConfig(cfg config) store.Config {
	return store.Config{URI: cfg.MongoURI, Database: cfg.MongoDatabase, DataDir: cfg.DataDir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// cliTimeout bounds a command-line tool's work on the store. Opening an embedded store of an older
// version moves its journal into daily partitions once, which takes about 76 s at 100,000 customers.
const cliTimeout = 10 * time.Minute
