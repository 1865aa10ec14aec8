package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enemane/privacybot/linesim"
)

const (
	crashSecret = "crash-test-channel-secret"
	crashToken  = "crash-test-access-token"
)

// TestKilledAfterAckIsAnsweredOnceAfterRestart runs the real server binary on the embedded store,
// acknowledges events, kills it with SIGKILL while it is still answering them, starts it again on the
// same data directory and checks that every acknowledged event is answered exactly once.
func TestKilledAfterAckIsAnsweredOnceAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := filepath.Join(t.TempDir(), "privacybot")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	api := linesim.NewAPI(linesim.APIOptions{AccessToken: crashToken})
	apiSrv := httptest.NewServer(api)
	defer apiSrv.Close()
	dataDir := t.TempDir()
	port := freePort(t)

	// LINE is slow: every send takes 3 s, so the kill lands while answers are in flight.
	api.SetFault(linesim.Fault{Latency: 3 * time.Second, PathPrefix: "/v2/bot/message"})
	p := startBot(t, bin, port, dataDir, apiSrv.URL)
	sender := &linesim.Sender{BotURL: fmt.Sprintf("http://127.0.0.1:%d/callback", port), ChannelSecret: crashSecret, API: api}
	const users, perUser = 6, 3
	var sent int
	for i := range perUser {
		for u := range users {
			code, err := sender.Send(context.Background(), sender.TextEvent(fmt.Sprintf("Ucrash%d", u), fmt.Sprintf("質問 %d", i)))
			if err != nil || code != http.StatusOK {
				t.Fatalf("send: %d %v", code, err)
			}
			sent++
		}
	}
	// Each customer's first answer lands at about 3 s; the kill comes as soon as they have, while the
	// second answers are in flight.
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	for u := range users {
		if _, err := api.WaitDeliveries(wctx, fmt.Sprintf("Ucrash%d", u), 1); err != nil {
			t.Fatalf("user %d: no first answer before the kill: %v", u, err)
		}
	}
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Wait()
	delivered := len(api.Deliveries(""))
	t.Logf("acknowledged %d events; %d answered before the kill", sent, delivered)
	if delivered == 0 || delivered == sent {
		t.Fatalf("%d of %d answered before the kill; the kill must land mid-way", delivered, sent)
	}

	api.ClearFault()
	p = startBot(t, bin, port, dataDir, apiSrv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for u := range users {
		if _, err := api.WaitDeliveries(ctx, fmt.Sprintf("Ucrash%d", u), perUser); err != nil {
			_ = p.Process.Kill()
			t.Fatalf("user %d: %v (got %d)", u, err, len(api.Deliveries(fmt.Sprintf("Ucrash%d", u))))
		}
	}
	// A graceful stop finishes whatever is in flight: once the server has exited, nothing more can
	// arrive, so the count below is final.
	_ = p.Process.Signal(syscall.SIGTERM)
	_ = p.Wait()
	ds := api.Deliveries("")
	if len(ds) != sent {
		t.Fatalf("%d answers to %d acknowledged events", len(ds), sent)
	}
	perToken := map[string]int{}
	for _, d := range ds {
		if d.Via == "reply" {
			perToken[d.ReplyToken]++
		}
	}
	for tok, n := range perToken {
		if n > 1 {
			t.Fatalf("reply token %s answered %d times", tok, n)
		}
	}
}

func startBot(t *testing.T, bin string, port int, dataDir, apiURL string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("PORT=%d", port), "DATA_DIR="+dataDir, "MONGODB_URI=",
		"LINE_CHANNEL_SECRET="+crashSecret, "LINE_CHANNEL_ACCESS_TOKEN="+crashToken,
		"DOCUMENT_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"LINE_API_BASE_URL="+apiURL, "LINE_API_DATA_BASE_URL="+apiURL, "LOG_LEVEL=warn")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go drain(t, out)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	t.Fatal("server did not become ready")
	return nil
}

func drain(t *testing.T, r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if line := s.Text(); strings.Contains(line, `"level":"ERROR"`) {
			t.Log(line)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
