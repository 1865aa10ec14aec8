package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enemane/privacybot/store"
)

// TestBackupWhileServingRestoresTheConversation runs the real binary: a server in local mode on one
// data directory, a customer chatting through its simulator, `privacybot backup` while it runs, a
// restore into another data directory (refused while the server holds the first, and into a store
// that is not empty), and a server started on the restored store, which holds the conversation.
func TestBackupWhileServingRestoresTheConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	archive := filepath.Join(t.TempDir(), "backups", "privacybot.tar.gz")
	if err := os.Mkdir(filepath.Dir(archive), 0o700); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	stop := serveLocal(t, bin, port, dataA)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	entries := simStream(ctx, t, base)
	var cu struct {
		Customer struct {
			UserID string `json:"userId"`
		} `json:"customer"`
	}
	simPost(t, base+"/sim/api/customers", map[string]string{"displayName": "バックアップ", "language": "ja"}, &cu)
	user := cu.Customer.UserID
	waitBot := func(what string) {
		t.Helper()
		for {
			select {
			case e := <-entries:
				if e.UserID == user && e.From == "bot" {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no answer to the %s", what)
			}
		}
	}
	waitBot("follow") // the greeting
	const text = "個人情報の利用目的を教えてください"
	simPost(t, base+"/sim/api/text", map[string]string{"userId": user, "text": text}, nil)
	waitBot("message")

	// Backups while the server runs, until one holds the conversation's checkpoint (written in the
	// background after the answer; an earlier backup restores like a crash at its moment, and the
	// restored server would first finish the events it caught unfinished).
	var out string
	for {
		var err error
		out, err = runCLI(bin, dataA, "backup", archive)
		if err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		m := manifestOf(t, archive)
		if count(m, "conversations") >= 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no backup with the checkpoint:\n%s", out)
		}
	}
	t.Logf("backup:\n%s", out)
	if !strings.Contains(out, "Consistency: snapshot") || strings.Contains(out, text) || strings.Contains(out, user) {
		t.Fatalf("backup summary:\n%s", out)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(archive), ".*")); len(left) != 0 {
		t.Fatalf("temporary files left beside the archive: %v", left)
	}
	// The server holds its data directory: a restore there is refused.
	if out, err := runCLI(bin, dataA, "restore", archive); err == nil || !strings.Contains(out, "in use") {
		t.Fatalf("restore into the running server's directory: %v\n%s", err, out)
	}
	stop()

	out, err := runCLI(bin, dataB, "restore", archive)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Restored") || strings.Contains(out, text) {
		t.Fatalf("restore summary:\n%s", out)
	}
	if out, err := runCLI(bin, dataB, "restore", archive); err == nil || !strings.Contains(out, "not empty") ||
		!strings.Contains(out, "nothing was written") {
		t.Fatalf("second restore: %v\n%s", err, out)
	}

	// A server on the restored store starts, resumes whatever the backup caught unfinished, and stops.
	serveLocal(t, bin, freePort(t), dataB)()
	st, err := store.Open(context.Background(), storeConfig(config{DataDir: dataB, MongoDatabase: "privacybot"}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	conv, ok, err := st.Conversation(context.Background(), user)
	if err != nil || !ok || conv.Seq < 2 {
		t.Fatalf("conversation after restore: %+v %v %v", conv, ok, err)
	}
	lines, err := st.Transcript(context.Background(), user, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range lines {
		found = found || l.Text == text
	}
	if !found {
		t.Fatalf("the customer's message is not in the restored transcript (%d lines)", len(lines))
	}
}

// testDocumentKey is the DOCUMENT_KEY of both data directories (a restore needs the key the
// documents were sealed with).
const testDocumentKey = "DOCUMENT_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// serveLocal starts the server in local mode on dataDir and waits until it is ready; stop ends it
// with SIGTERM and waits for it to exit.
func serveLocal(t *testing.T, bin string, port int, dataDir string) (stop func()) {
	t.Helper()
	return startServer(t, bin, port, append(localEnv(port, dataDir), testDocumentKey, "LOG_LEVEL=warn")).Stop
}

// runCLI runs a command of the binary on dataDir; its output is stdout and stderr together.
func runCLI(bin, dataDir string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(localEnv(0, dataDir), testDocumentKey) // the subcommands only open the store
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// simEntry is an entry of the simulator's chat stream.
type simEntry struct {
	UserID string `json:"userId"`
	From   string `json:"from"`
	Kind   string `json:"kind"`
}

// simStream follows the simulator's chat page stream; entries arrive on the channel.
func simStream(ctx context.Context, t *testing.T, base string) <-chan simEntry {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim/api/stream", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan simEntry, 100)
	ready := make(chan struct{})
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "ready":
				close(ready)
			case strings.HasPrefix(line, "data: ") && event == "entry":
				var e simEntry
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) == nil {
					select {
					case ch <- e:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("the simulator's stream did not open")
	}
	return ch
}

func simPost(t *testing.T, url string, body, into any) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, res.Status)
	}
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
}

// manifestOf reads an archive's manifest (its first entry).
func manifestOf(t *testing.T, path string) store.Manifest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	if h, err := tr.Next(); err != nil || h.Name != "manifest.json" {
		t.Fatalf("first entry: %v %v", h, err)
	}
	var m store.Manifest
	if err := json.NewDecoder(tr).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func count(m store.Manifest, name string) int64 {
	for _, c := range m.Collections {
		if c.Name == name {
			return c.Documents
		}
	}
	return 0
}
