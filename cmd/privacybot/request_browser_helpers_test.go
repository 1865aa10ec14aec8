package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Helpers of TestRequestInBrowser: the real binary in local mode, and chromium tabs driven by chromedp.

// browserPath is the chromium the browser tests drive, or "" when none is installed.
func browserPath() string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// buildBinary builds this command into a temporary directory, as the crash test does.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "privacybot")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// localEnv is the environment of the binary in local mode: the test's environment without anything
// that configures the server (so no LINE credentials, no MongoDB, no webhooks), plus DATA_DIR and, unless
// port is 0, PORT.
func localEnv(port int, dataDir string) []string {
	drop := []string{"LINE_", "FLY_", "MONGODB_", "STAFF_", "MARKETING_", "REQUEST_", "PACKAGE_", "BASE_URL=",
		"POLICY_URL=", "PORT=", "DATA_DIR=", "DOCUMENT_KEY=", "LOCAL_MODE_BIND=", "TRUSTED_PROXIES=", "PPROF_ADDR=",
		"BUSINESS_HOURS=", "HOLIDAYS=", "LOG_LEVEL="}
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, d := range drop {
			if strings.HasPrefix(kv, d) {
				continue next
			}
		}
		env = append(env, kv)
	}
	env = append(env, "DATA_DIR="+dataDir)
	if port != 0 {
		env = append(env, fmt.Sprintf("PORT=%d", port))
	}
	return env
}

// addConsoleUser runs `privacybot user add --role ROLE EMAIL` with the password on stdin, on the store
// under dataDir (before the server starts: the embedded engine's files belong to one process).
func addConsoleUser(t *testing.T, bin, dataDir, role, email, password string) {
	t.Helper()
	cmd := exec.Command(bin, "user", "add", "--role", role, email)
	cmd.Env = localEnv(0, dataDir) // the subcommand only opens the store
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Added "+email) {
		t.Fatalf("user add: %v\n%s", err, out)
	}
}

// tailBuffer keeps the last bytes a process wrote, for the test's log when it fails.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 16 << 10

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*tailMax {
		b.buf = append([]byte(nil), b.buf[len(b.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf
	if len(s) > tailMax {
		s = s[len(s)-tailMax:]
	}
	return string(bytes.ToValidUTF8(s, nil))
}

// localServer is the binary serving (in local mode unless its environment says otherwise).
type localServer struct {
	URL  string // http://127.0.0.1:PORT
	out  *tailBuffer
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// startLocalServer starts `privacybot` (serve) in local mode on port and waits for /readyz.
func startLocalServer(t *testing.T, bin string, port int, dataDir string) *localServer {
	t.Helper()
	return startServer(t, bin, port, localEnv(port, dataDir))
}

// startServer starts `privacybot` (serve) with env, listening on port, and waits for /readyz. The
// process is stopped in t.Cleanup: SIGTERM, and SIGKILL if it has not exited 10 s later.
func startServer(t *testing.T, bin string, port int, env []string) *localServer {
	t.Helper()
	s := &localServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port), out: &tailBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin)
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output (tail):\n%s", s.out.String())
		}
	})
	waitUntil(t, "the server to be ready", s.done, func() bool {
		res, err := http.Get(s.URL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return s
}

// Stop ends the server with SIGTERM and waits for it to exit.
func (s *localServer) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}

// waitUntil checks cond every 50 ms until it holds; it fails the test after 30 s, or as soon as
// exited (when not nil) is closed: the process the condition waits on has ended.
func waitUntil(t *testing.T, what string, exited <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("the process exited while waiting for %s", what)
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// tab is one chromium tab (or browser context) of the test, with a deadline for the whole test.
type tab struct {
	t    *testing.T
	name string
	base context.Context // the tab's own context, without the deadline (for dumps after a failure)
	ctx  context.Context // base with the test's deadline
}

const waitFor = 20 * time.Second // the longest any one condition is waited for

func (b *tab) run(what string, acts ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, acts...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// poll waits until the JavaScript expression is truthy on the current page.
func (b *tab) poll(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(waitFor))); err != nil {
		b.t.Fatalf("%s: waiting for %s: %v", b.name, what, err)
	}
}

func (b *tab) eval(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, expr, err)
	}
	return s
}

// text is the page's visible text (for failure messages); it works after the test's deadline too.
func (b *tab) text() string {
	ctx, cancel := context.WithTimeout(b.base, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(%s: no text: %v)", loc, err)
	}
	return loc + "\n" + s
}

// shot writes a screenshot of the page to $PRIVACYBOT_SCREENSHOTS/request-<name>.png when that
// variable is set; full is the whole page rather than the window.
func (b *tab) shot(name string, full bool) {
	b.t.Helper()
	dir := os.Getenv("PRIVACYBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, act)
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	path := filepath.Join(dir, "request-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
