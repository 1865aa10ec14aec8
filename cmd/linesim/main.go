// Command linesim runs the LINE simulator against a bot.
//
//	linesim serve -bot URL -secret S -token T [-addr 127.0.0.1:9090] [-prefix /linesim]
//
// serves the fake Messaging API (point the bot's LINE API base URL at
// http://ADDR[PREFIX]) and the chat page at http://ADDR/sim/.
//
//	linesim load -bot URL -secret S -token T [-api-addr 127.0.0.1:9091] [-rate 1500]
//	             [-users 1000] [-duration 30s] [-max-events N] [-drain 15s] [-json]
//
// runs the load tool: its own fake API on api-addr (start the bot with its
// LINE API base URL pointing there and the same token), signed text events
// at the given open-loop rate, and a report of acknowledgement and answer
// latency, lost and doubled answers. It exits 1 when answers were lost or
// doubled. Only loopback addresses are accepted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/enemane/privacybot/linesim"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "load":
		err = load(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		log.SetFlags(0)
		log.Fatal("linesim: ", strings.TrimPrefix(err.Error(), "linesim: "))
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: linesim serve|load [flags]   (linesim serve -h, linesim load -h)")
	os.Exit(2)
}

// loopbackAddr gives a host-less address (":9090") the loopback host and
// refuses other hosts.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !linesim.IsLoopbackHost(host) {
		return "", fmt.Errorf("address %q is not loopback", addr)
	}
	return net.JoinHostPort(host, port), nil
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	bot := fs.String("bot", "http://127.0.0.1:8080/callback", "bot webhook URL")
	secret := fs.String("secret", "", "channel secret (signs webhooks)")
	token := fs.String("token", "", "channel access token the bot uses")
	addr := fs.String("addr", "127.0.0.1:9090", "listen address (loopback; ':9090' means 127.0.0.1:9090)")
	prefix := fs.String("prefix", "", "path prefix of the fake API, e.g. /linesim")
	dest := fs.String("destination", "", "bot user ID sent as destination (default generated)")
	_ = fs.Parse(args)
	if *secret == "" || *token == "" {
		return errors.New("serve: -secret and -token are required")
	}
	listen, err := loopbackAddr(*addr)
	if err != nil {
		return err
	}
	if *dest == "" {
		*dest = linesim.NewBotUserID()
	}
	api := linesim.NewAPI(linesim.APIOptions{Prefix: *prefix, AccessToken: *token})
	sender := &linesim.Sender{BotURL: *bot, ChannelSecret: *secret, Destination: *dest, API: api}
	chat := linesim.NewChat(api, sender, linesim.ChatOptions{})
	mux := http.NewServeMux()
	mux.Handle("/sim", chat)
	mux.Handle("/sim/", chat)
	mux.Handle("/", api)
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	log.Printf("fake Messaging API: http://%s%s  (bot: LINE API base URL)", ln.Addr(), *prefix)
	log.Printf("chat page:          http://%s/sim/", ln.Addr())
	log.Printf("webhooks go to %s", *bot)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func load(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var cfg linesim.LoadConfig
	bots := fs.String("bot", "http://127.0.0.1:8080/callback", "bot webhook URL (loopback); several, comma-separated, are served in turn like a load balancer would")
	fs.StringVar(&cfg.Secret, "secret", "", "channel secret (signs webhooks)")
	fs.StringVar(&cfg.Token, "token", "", "channel access token the bot uses")
	fs.StringVar(&cfg.APIAddr, "api-addr", "127.0.0.1:9091", "loopback address of the fake API")
	fs.StringVar(&cfg.APIPrefix, "prefix", "", "path prefix of the fake API")
	fs.Float64Var(&cfg.Rate, "rate", 1500, "offered events per second")
	fs.IntVar(&cfg.Users, "users", 1000, "simulated users")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to offer events")
	fs.IntVar(&cfg.MaxEvents, "max-events", 0, "cap on events (0: rate × duration)")
	fs.DurationVar(&cfg.Drain, "drain", 15*time.Second, "how long to wait for answers afterwards")
	fs.IntVar(&cfg.MaxInFlight, "inflight", 1000, "max concurrent webhook requests")
	fs.IntVar(&cfg.AnswersPerEvent, "answers", 1, "deliveries the bot makes per event")
	fs.IntVar(&cfg.Redeliveries, "redeliver", 0, "send an event answered with another status than 200 again, as LINE's webhook redelivery does, up to this many times (1 s, 2 s, 4 s… apart)")
	limits := fs.Bool("line-limits", true, "enforce LINE's API rate limits (429 beyond them)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	_ = fs.Parse(args)
	cfg.BotURLs = strings.Split(*bots, ",")
	if *limits {
		cfg.RateLimits = linesim.LINERateLimits()
	}
	if cfg.Secret == "" || cfg.Token == "" {
		return errors.New("load: -secret and -token are required")
	}
	rep, err := linesim.RunLoad(ctx, cfg)
	if err != nil && rep.Events == 0 {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Print(rep.Table())
	}
	if err != nil {
		return err
	}
	return rep.Check()
}
