package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/enemane/privacybot/linesim"
)

const (
	clusterSecret = "cluster-test-channel-secret"
	clusterToken  = "cluster-test-access-token"
)

// clusterEnv is the environment of one instance of several on the MongoDB-compatible server at uri.
func clusterEnv(port int, id, uri, apiURL string) []string {
	env := localEnv(port, "")
	return append(env, "MONGODB_URI="+uri, "INSTANCE_ID="+id,
		"LINE_CHANNEL_SECRET="+clusterSecret, "LINE_CHANNEL_ACCESS_TOKEN="+clusterToken,
		"DOCUMENT_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LINE_API_BASE_URL="+apiURL, "LINE_API_DATA_BASE_URL="+apiURL, "LOG_LEVEL=warn", "METRICS_ADDR=off")
}

// TestThreeInstancesOnOneStore runs three instances of the real binary on one standalone FerretDB (the
// only MongoDB-compatible server available here), sends them events as a load balancer would (one
// customer's events land on every instance in turn; an instance that is down is skipped), kills one
// instance with SIGKILL a third of the way through and stops another with SIGTERM at two thirds. Every
// acknowledged event must be answered exactly once, and each customer's answers must come in the order
// of their events. An event refused with 503 (the engine stalled past the bot's deadline, as it does
// when the shared machine is busy) is sent again as LINE's webhook redelivery does: in the end every
// event must be acknowledged.
func TestThreeInstancesOnOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three servers")
	}
	bin := buildBinary(t)
	// The engine in a process of its own (`privacybot engine`, as docs/bench/instances.sh runs it): not
	// in this test's process, which -race slows down several times over.
	enginePort := freePort(t)
	engine := exec.Command(bin, "engine", t.TempDir(), fmt.Sprintf("127.0.0.1:%d", enginePort))
	engineOut := &tailBuffer{}
	engine.Stdout, engine.Stderr = engineOut, engineOut
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	engineDone := make(chan struct{})
	go func() { _ = engine.Wait(); close(engineDone) }()
	defer func() { _ = engine.Process.Signal(syscall.SIGTERM); <-engineDone }()
	waitUntil(t, "the engine to listen", engineDone, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", enginePort))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	uri := fmt.Sprintf("mongodb://127.0.0.1:%d/", enginePort)
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiURL := "http://" + apiLn.Addr().String()

	var servers []*localServer
	var urls []string
	for i := range 3 {
		port := freePort(t)
		servers = append(servers, startServer(t, bin, port, clusterEnv(port, fmt.Sprintf("i%d", i+1), uri, apiURL)))
		urls = append(urls, servers[i].URL+"/callback")
	}

	// 40 customers over three instances: consecutive events of a customer land on different ones. The
	// rate is what one FerretDB on SQLite serves three instances comfortably on a shared CI machine;
	// the README gives the figures at higher rates.
	const events = 720
	var once [2]sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := linesim.RunLoad(ctx, linesim.LoadConfig{
		BotURLs: urls, Secret: clusterSecret, Token: clusterToken, Listener: apiLn,
		Rate: 60, Users: 40, MaxEvents: events, Duration: time.Minute, Drain: 60 * time.Second,
		// LINE's webhook redelivery: when the shared machine stalls the engine past the bot's store
		// deadline, the bot answers 503 and LINE sends the event again later.
		Redeliveries: 5,
		Progress: func(sent int) {
			switch {
			case sent == events/3:
				once[0].Do(func() { _ = servers[1].cmd.Process.Signal(syscall.SIGKILL) })
			case sent == 2*events/3:
				// SIGTERM while events keep coming: the server stops accepting (the load balancer
				// sends them on), finishes, and hands its customers over.
				once[1].Do(func() { go servers[2].Stop() })
			}
		},
	})
	t.Logf("three instances, one killed, one stopped:\n%s", rep.Table())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acked < events || rep.Non200 > 0 {
		t.Fatalf("%d of %d events acknowledged (after up to 5 redeliveries), %d answered another status", rep.Acked, events, rep.Non200)
	}
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	if rep.Failovers == 0 {
		t.Fatal("no event was sent to an instance that was down: the stops did not land mid-run")
	}

	// The stopped instance handed its customers over: none of its leases is left held (released, or
	// lapsed already when the store was too slow to renew it).
	<-servers[2].done
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	leases := client.Database("privacybot").Collection("customer_leases")
	held, err := leases.CountDocuments(ctx, bson.D{{Key: "holder", Value: "i3"}, {Key: "released", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "until", Value: bson.D{{Key: "$gt", Value: time.Now()}}}})
	if err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Fatalf("the SIGTERM'd instance left %d leases held", held)
	}
}
