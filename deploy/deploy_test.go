// Package deploy holds no program code: its tests keep the container image (../Dockerfile), the Fly.io
// configuration (../fly.toml) and the program in agreement. Neither Docker nor Fly.io can run where the
// tests run, so the files are checked statically, and the binary is built with the Dockerfile's own
// flags and run the way the image runs it.
package deploy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"debug/elf"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

const root = ".." // the repository

// The secrets of README's configuration table: never a value in fly.toml, each named in its comments.
var secrets = []string{"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "DOCUMENT_KEY",
	"STAFF_WEBHOOK_SECRET", "MARKETING_WEBHOOK_SECRET", "REQUEST_WEBHOOK_SECRET", "MONGODB_URI"}

// Measured figures the machine size must hold (README, Performance; docs/backup.md).
const (
	peakServerRSSMB = 363 // the server's RSS after 1,500 events/s for 30 s (344-363 MB over the runs)
	backupPeakMB    = 140 // `privacybot backup`, which runs beside the server
	vmOverheadMB    = 64  // the VM's kernel, Fly's init and its SSH server
)

// --- the Dockerfile ---

type instruction struct{ cmd, args string }

type stage struct {
	from, name string
	instrs     []instruction
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// parseDockerfile reads the stages and their instructions (continuation lines joined, comments dropped).
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd, args = strings.ToUpper(cmd), strings.TrimSpace(args)
		if cmd == "FROM" {
			f := strings.Fields(args)
			s := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			if cmd != "ARG" {
				t.Fatalf("Dockerfile: %s before FROM", cmd)
			}
			return
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, instruction{cmd, args})
	}
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a run stage", len(stages))
	}
	return stages
}

// envOf is a stage's ENV, in both forms (KEY=VALUE … and KEY VALUE).
func envOf(t *testing.T, s stage) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		words := shellWords(t, args)
		if len(words) > 0 && !strings.Contains(words[0], "=") {
			env[words[0]] = strings.Join(words[1:], " ")
			continue
		}
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				t.Fatalf("Dockerfile: ENV %q", args)
			}
			env[k] = v
		}
	}
	return env
}

// shellWords splits a command line as sh would for the quoting the Dockerfile uses (no expansions).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// goBuild is the build stage's `go build` command: its environment (the stage's ENV and any VAR=value
// before it) and its arguments.
type goBuild struct {
	env    map[string]string
	args   []string // after "go build"
	output string   // -o
	pkg    string
}

func dockerBuild(t *testing.T, build stage) goBuild {
	t.Helper()
	var found []goBuild
	for _, run := range build.all("RUN") {
		words := shellWords(t, run)
		for len(words) > 0 && strings.HasPrefix(words[0], "--") { // RUN --mount=…
			words = words[1:]
		}
		env := envOf(t, build)
		for len(words) > 0 && strings.Contains(words[0], "=") {
			k, v, _ := strings.Cut(words[0], "=")
			env[k], words = v, words[1:]
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "build" {
			continue
		}
		if slices.ContainsFunc(words, func(w string) bool { return w == "&&" || w == ";" || w == "|" }) {
			t.Fatalf("Dockerfile: keep `go build` alone on its RUN line: %q", run)
		}
		b := goBuild{env: env, args: words[2:]}
		for i, a := range b.args {
			if a == "-o" && i+1 < len(b.args) {
				b.output = b.args[i+1]
			}
		}
		b.pkg = b.args[len(b.args)-1]
		found = append(found, b)
	}
	if len(found) != 1 {
		t.Fatalf("Dockerfile: %d `go build` lines in the build stage, want 1", len(found))
	}
	return found[0]
}

// flagValue is the value of a go build flag (-name value or -name=value).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// --- fly.toml ---

type flyCheck struct {
	Type        string `toml:"type"`
	Port        int    `toml:"port"`
	Method      string `toml:"method"`
	Path        string `toml:"path"`
	GracePeriod string `toml:"grace_period"`
	Interval    string `toml:"interval"`
	Timeout     string `toml:"timeout"`
}

type flyConfig struct {
	App           string `toml:"app"`
	PrimaryRegion string `toml:"primary_region"`
	KillSignal    string `toml:"kill_signal"`
	KillTimeout   any    `toml:"kill_timeout"`
	Build         struct {
		Dockerfile string `toml:"dockerfile"`
		Builder    string `toml:"builder"`
		Image      string `toml:"image"`
	} `toml:"build"`
	Deploy struct {
		Strategy    string `toml:"strategy"`
		WaitTimeout string `toml:"wait_timeout"`
	} `toml:"deploy"`
	Env    map[string]string `toml:"env"`
	Mounts []struct {
		Source      string `toml:"source"`
		Destination string `toml:"destination"`
	} `toml:"mounts"`
	HTTPService struct {
		InternalPort       int        `toml:"internal_port"`
		AutoStopMachines   any        `toml:"auto_stop_machines"`
		MinMachinesRunning int        `toml:"min_machines_running"`
		Checks             []flyCheck `toml:"checks"`
	} `toml:"http_service"`
	Checks map[string]flyCheck `toml:"checks"`
	VM     []struct {
		Size   string `toml:"size"`
		Memory any    `toml:"memory"`
	} `toml:"vm"`
}

func readFly(t *testing.T) (flyConfig, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "fly.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var fc flyConfig
	_, err = toml.Decode(string(raw), &fc)
	if err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	return fc, string(raw)
}

// duration reads a fly.toml time: a Go duration ("30s", "10m") or a bare number of seconds.
func duration(t *testing.T, what string, v any) time.Duration {
	t.Helper()
	switch v := v.(type) {
	case int64:
		return time.Duration(v) * time.Second
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("fly.toml %s: %v", what, err)
		}
		return d
	}
	t.Fatalf("fly.toml %s: %v is not a time", what, v)
	return 0
}

// megabytes reads a fly.toml memory size: "1gb", "512mb", or a bare number of MB.
func megabytes(t *testing.T, v any) int {
	t.Helper()
	switch v := v.(type) {
	case int64:
		return int(v)
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		for suffix, mul := range map[string]int{"gb": 1024, "mb": 1} {
			if n, ok := strings.CutSuffix(s, suffix); ok {
				if x, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
					return x * mul
				}
			}
		}
	}
	t.Fatalf("fly.toml [[vm]] memory %v: not a size", v)
	return 0
}

// sourceNumber finds `re`'s first match after `after` in a Go file of the repository and reads its
// number: how the tests learn the program's own budgets.
func sourceNumber(t *testing.T, file, after, re string) int {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(src, []byte(after))
	if i < 0 {
		t.Fatalf("%s: %q not found; update this test", file, after)
	}
	m := regexp.MustCompile(re).FindSubmatch(src[i:])
	if m == nil {
		t.Fatalf("%s: no %s after %q; update this test", file, re, after)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// --- the static checks ---

func TestDockerfileAndFlyTomlAgree(t *testing.T) {
	stages := parseDockerfile(t)
	build, run := stages[0], stages[len(stages)-1]
	fc, flyRaw := readFly(t)
	runEnv := envOf(t, run)

	// The build stage: the official Go image of go.mod's Go, pinned to a patch release.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	modGo := regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.\d+)?$`).FindSubmatch(gomod)
	img := regexp.MustCompile(`^golang:(\d+\.\d+)\.(\d+)(-[a-z0-9.]+)?$`).FindStringSubmatch(build.from)
	switch {
	case modGo == nil:
		t.Fatal("go.mod: no go line")
	case img == nil:
		t.Errorf("build stage FROM %s: want the official golang image pinned to a patch release (golang:1.26.N)", build.from)
	case img[1] != string(modGo[1]):
		t.Errorf("build stage FROM %s, but go.mod says go %s", build.from, modGo[1])
	case len(modGo[2]) > 0 && atoi(img[2]) < atoi(string(modGo[2][1:])):
		t.Errorf("build stage FROM %s is older than go.mod's go %s%s", build.from, modGo[1], modGo[2])
	}

	// The go build line: static, reproducible, stripped, with its zone database.
	gb := dockerBuild(t, build)
	if gb.env["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile: the build needs CGO_ENABLED=0, has %q", gb.env["CGO_ENABLED"])
	}
	if !slices.Contains(gb.args, "-trimpath") {
		t.Error("Dockerfile: go build without -trimpath")
	}
	if ld, _ := flagValue(gb.args, "-ldflags"); !slices.Contains(strings.Fields(ld), "-s") || !slices.Contains(strings.Fields(ld), "-w") {
		t.Errorf("Dockerfile: -ldflags %q, want -s -w", ld)
	}
	if tags, _ := flagValue(gb.args, "-tags"); !slices.Contains(strings.Split(tags, ","), "timetzdata") {
		t.Errorf("Dockerfile: -tags %q, want timetzdata (TZ=Asia/Tokyo must not depend on the base image)", tags)
	}
	if gb.pkg != "./cmd/privacybot" {
		t.Errorf("Dockerfile: go build builds %s, want ./cmd/privacybot", gb.pkg)
	}

	// The run stage: pinned, unprivileged, the binary copied from the build and started.
	if !strings.Contains(run.from, "@sha256:") {
		name, tag, ok := strings.Cut(run.from[strings.LastIndex(run.from, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("run stage FROM %s (%s): pin a tag", run.from, name)
		}
	}
	users := run.all("USER")
	if len(users) == 0 {
		t.Fatal("Dockerfile: no USER in the run stage: the server would run as root")
	}
	uid, gid := userOf(t, users[len(users)-1])
	if uid == 0 || gid == 0 {
		t.Errorf("Dockerfile: USER %s is root", users[len(users)-1])
	}
	entry := entrypoint(t, run)
	copied := false
	for _, c := range run.all("COPY") {
		w := shellWords(t, c)
		if slices.Contains(w, "--from="+build.name) && w[len(w)-2] == gb.output && w[len(w)-1] == entry {
			copied = true
		}
	}
	if !copied {
		t.Errorf("Dockerfile: ENTRYPOINT %s is not the binary the build stage writes (%s)", entry, gb.output)
	}

	// The port: the Dockerfile's EXPOSE and PORT, fly.toml's PORT and the port Fly sends traffic to.
	port := fc.HTTPService.InternalPort
	if exp := run.all("EXPOSE"); len(exp) != 1 || strings.TrimSuffix(exp[0], "/tcp") != strconv.Itoa(port) {
		t.Errorf("Dockerfile EXPOSE %v, fly.toml internal_port %d", exp, port)
	}
	for what, p := range map[string]string{"Dockerfile ENV PORT": runEnv["PORT"], "fly.toml [env] PORT": fc.Env["PORT"]} {
		if p != strconv.Itoa(port) {
			t.Errorf("%s = %q, but fly.toml internal_port = %d", what, p, port)
		}
	}

	// The data: the volume is mounted where the store keeps its files.
	if len(fc.Mounts) != 1 {
		t.Fatalf("fly.toml: %d [[mounts]], want the embedded store's one", len(fc.Mounts))
	}
	dataDir := runEnv["DATA_DIR"]
	if v, ok := fc.Env["DATA_DIR"]; ok && v != dataDir {
		t.Errorf("fly.toml DATA_DIR %q, Dockerfile DATA_DIR %q", v, dataDir)
	}
	if d := fc.Mounts[0].Destination; d == "" || d != dataDir {
		t.Errorf("fly.toml mounts %q, but DATA_DIR is %q", d, dataDir)
	}
	if s := fc.Deploy.Strategy; s == "bluegreen" || s == "canary" {
		t.Errorf("fly.toml [deploy] strategy %q: not possible with a volume", s)
	}

	// Built from the Dockerfile.
	if fc.Build.Dockerfile != "Dockerfile" || fc.Build.Builder != "" || fc.Build.Image != "" {
		t.Errorf("fly.toml [build] = %+v, want dockerfile = \"Dockerfile\" only", fc.Build)
	}

	// Health: readiness routes traffic, liveness is watched; both on the server's port.
	var ready, live *flyCheck
	for i, c := range fc.HTTPService.Checks {
		switch c.Path {
		case "/readyz":
			ready = &fc.HTTPService.Checks[i]
		case "/healthz":
			live = &fc.HTTPService.Checks[i]
		}
	}
	for name, c := range fc.Checks {
		if c.Type != "http" || c.Port != port {
			t.Errorf("fly.toml [checks.%s]: type %q port %d, want http on %d", name, c.Type, c.Port, port)
		}
		if c.Path == "/healthz" {
			live = new(flyCheck)
			*live = c
		}
	}
	if ready == nil {
		t.Error("fly.toml: no [[http_service.checks]] on /readyz (readiness, which routes traffic)")
	}
	if live == nil {
		t.Error("fly.toml: no check on /healthz (liveness)")
	}
	for _, c := range []*flyCheck{ready, live} {
		if c != nil && (c.GracePeriod == "" || c.Interval == "" || c.Timeout == "") {
			t.Errorf("fly.toml check %s: set grace_period, interval and timeout", c.Path)
		}
	}
	if ready != nil && duration(t, "readyz timeout", ready.Timeout) <= 2*time.Second {
		t.Errorf("fly.toml /readyz timeout %s: the store's ping alone may take 2 s", ready.Timeout)
	}
	// The first start of this version on an older embedded store moves the journal before it listens
	// (about 76 s at 100,000 customers); `fly deploy` must wait as long as the command-line tools do.
	cliWait := time.Duration(sourceNumber(t, "cmd/privacybot/config.go", "const cliTimeout", `(\d+)\s*\*\s*time\.Minute`)) * time.Minute
	if fc.Deploy.WaitTimeout == "" || duration(t, "[deploy] wait_timeout", fc.Deploy.WaitTimeout) < cliWait {
		t.Errorf("fly.toml [deploy] wait_timeout %q, want at least %s (the one-time journal move)", fc.Deploy.WaitTimeout, cliWait)
	}

	// Stopping: SIGTERM, and time for the server's shutdown budget, the inbox seal and closing the store.
	budget := time.Duration(sourceNumber(t, "cmd/privacybot/serve.go", `"shutting down"`,
		`WithTimeout\(context\.Background\(\),\s*(\d+)\s*\*\s*time\.Second\)`)) * time.Second
	if fc.KillSignal != "SIGTERM" {
		t.Errorf("fly.toml kill_signal %q, want SIGTERM (the server's clean stop)", fc.KillSignal)
	}
	seal := time.Duration(sourceNumber(t, "bot/processor.go", "func (p *Processor) Stop(",
		`WithTimeout\(context\.Background\(\),\s*(\d+)\s*\*\s*time\.Second\)`)) * time.Second
	if kt := duration(t, "kill_timeout", fc.KillTimeout); kt < budget+seal+5*time.Second || kt > 300*time.Second {
		t.Errorf("fly.toml kill_timeout %s, want the %s shutdown budget, the inbox seal's %s and time to close the store (Fly allows 300 s)",
			kt, budget, seal)
	}
	if sig := run.all("STOPSIGNAL"); len(sig) > 0 && sig[0] != "SIGTERM" {
		t.Errorf("Dockerfile STOPSIGNAL %s, want SIGTERM", sig[0])
	}

	// Webhooks arrive at any time: the machine never sleeps.
	if fc.HTTPService.MinMachinesRunning < 1 || !(fc.HTTPService.AutoStopMachines == "off" || fc.HTTPService.AutoStopMachines == false) {
		t.Errorf("fly.toml: auto_stop_machines %v, min_machines_running %d: LINE's webhooks need a running machine",
			fc.HTTPService.AutoStopMachines, fc.HTTPService.MinMachinesRunning)
	}

	// Secrets: named in the comments, never a value.
	var comments strings.Builder
	for _, line := range strings.Split(flyRaw, "\n") {
		if _, c, ok := strings.Cut(line, "#"); ok {
			comments.WriteString(c + "\n")
		}
	}
	if !strings.Contains(comments.String(), "fly secrets set") {
		t.Error("fly.toml: the comments do not say `fly secrets set`")
	}
	for _, s := range secrets {
		if !regexp.MustCompile(`\b` + s + `\b`).MatchString(comments.String()) {
			t.Errorf("fly.toml: the secret %s is not named in the comments", s)
		}
		if _, ok := fc.Env[s]; ok {
			t.Errorf("fly.toml: the secret %s has a value in [env]", s)
		}
	}
	for k := range fc.Env {
		if regexp.MustCompile(`(SECRET|TOKEN|KEY|PASSWORD|_URI)$`).MatchString(k) {
			t.Errorf("fly.toml [env] %s looks like a secret: use fly secrets set", k)
		}
	}
	for _, k := range []string{"TZ", "BASE_URL"} {
		if fc.Env[k] == "" {
			t.Errorf("fly.toml [env]: set %s", k)
		}
	}
	if !strings.HasPrefix(fc.Env["BASE_URL"], "https://") {
		t.Errorf("fly.toml BASE_URL %q: LINE needs the public https URL", fc.Env["BASE_URL"])
	}

	// The machine holds the measured memory.
	if len(fc.VM) != 1 {
		t.Fatalf("fly.toml: %d [[vm]], want 1", len(fc.VM))
	}
	need := peakServerRSSMB + backupPeakMB + vmOverheadMB
	if mb := megabytes(t, fc.VM[0].Memory); mb < need {
		t.Errorf("fly.toml [[vm]] memory %d MB: the server's measured peak (%d MB), a backup beside it (%d MB) and the VM (%d MB) need %d MB",
			mb, peakServerRSSMB, backupPeakMB, vmOverheadMB, need)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func userOf(t *testing.T, user string) (uid, gid int) {
	t.Helper()
	u, g, _ := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil {
		t.Fatalf("Dockerfile USER %s: give the numeric uid, so that a platform can tell it is not root", user)
	}
	gid = uid
	if g != "" {
		if gid, err = strconv.Atoi(g); err != nil {
			t.Fatalf("Dockerfile USER %s: numeric gid", user)
		}
	}
	return uid, gid
}

func entrypoint(t *testing.T, run stage) string {
	t.Helper()
	eps := run.all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("Dockerfile: %d ENTRYPOINT in the run stage, want 1", len(eps))
	}
	var argv []string
	if err := json.Unmarshal([]byte(eps[0]), &argv); err != nil || len(argv) != 1 {
		t.Fatalf("Dockerfile: ENTRYPOINT %s: want the exec form with the binary alone, so that SIGTERM reaches it", eps[0])
	}
	return argv[0]
}

// --- the binary ---

// TestImageBinaryIsStaticAndRunsAlone builds the binary exactly as the Dockerfile does, checks that it
// is statically linked and stripped, and runs it the way the image runs on Fly.io: as the image's user,
// in a root holding nothing but the binary and the data directory (no zone files, no CA files, no
// shell), with only the Dockerfile's and fly.toml's environment and fake secrets. It must start, read
// TZ=Asia/Tokyo and BUSINESS_HOURS from its embedded zone database, answer both health checks and stop
// on SIGTERM within fly.toml's kill_timeout.
func TestImageBinaryIsStaticAndRunsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	stages := parseDockerfile(t)
	build, run := stages[0], stages[len(stages)-1]
	gb := dockerBuild(t, build)
	fc, _ := readFly(t)
	runEnv := envOf(t, run)
	entry := entrypoint(t, run)
	users := run.all("USER")
	uid, gid := userOf(t, users[len(users)-1])

	// The build, with the Dockerfile's flags and environment over this one's (GOFLAGS cleared: the
	// image has none). The image's Go may be a later patch than this toolchain.
	bin := filepath.Join(t.TempDir(), "privacybot")
	args := slices.Clone(gb.args)
	for i := range args {
		if i > 0 && args[i-1] == "-o" {
			args[i] = bin
		}
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	for k, v := range gb.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	started := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if v, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		t.Logf("built with %s (the image: %s) in %s", strings.TrimSpace(string(v)), build.from, time.Since(started).Round(time.Millisecond))
	}

	checkStatic(t, bin)

	// The root it runs in: the binary where the image has it, and DATA_DIR owned by the image's user.
	jail := t.TempDir()
	if err := os.Chmod(jail, 0o755); err != nil {
		t.Fatal(err)
	}
	inJail := func(p string) string { return filepath.Join(jail, filepath.FromSlash(p)) }
	dataDir := runEnv["DATA_DIR"]
	for _, dir := range []string{filepath.Dir(entry), dataDir, "/tmp"} {
		if err := os.MkdirAll(inJail(dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(inJail("/tmp"), 0o1777)
	copyFile(t, bin, inJail(entry))

	port := freePort(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{}
	for k, v := range runEnv {
		env[k] = v
	}
	for k, v := range fc.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		// What Fly.io adds, and the secrets (fake: nothing reaches LINE).
		"FLY_APP_NAME": fc.App, "PRIMARY_REGION": fc.PrimaryRegion,
		"LINE_CHANNEL_SECRET": "deploy-test-channel-secret", "LINE_CHANNEL_ACCESS_TOKEN": "deploy-test-token",
		"DOCUMENT_KEY": base64.StdEncoding.EncodeToString(key),
		// A closed port for LINE, a free port for the server, and no zone files anywhere.
		"LINE_API_BASE_URL": "http://127.0.0.1:1", "LINE_API_DATA_BASE_URL": "http://127.0.0.1:1",
		"PORT": strconv.Itoa(port), "ZONEINFO": "/nonexistent",
		// The metrics listener on a port of its own, not the default other tests may be using.
		"METRICS_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
	} {
		env[k] = v
	}
	if env["TZ"] != "Asia/Tokyo" {
		t.Fatalf("TZ = %q; this test proves the zone database with Asia/Tokyo", env["TZ"])
	}
	if env["BUSINESS_HOURS"] == "" {
		env["BUSINESS_HOURS"] = "Mon-Fri 09:00-18:00"
	}

	// As root: chroot and the image's user. Otherwise a user namespace of its own, where it is root
	// (to chroot). Where neither works, from where it was built, with this machine's zone files in view:
	// the embedded database is then proven by its bytes instead.
	var stderr lockedBuffer
	start := func(jailed bool) (*exec.Cmd, io.ReadCloser, error) {
		p := exec.Command(entry)
		p.Dir = "/"
		if !jailed {
			p = exec.Command(bin)
			p.Dir = t.TempDir()
			env["DATA_DIR"] = filepath.Join(p.Dir, "data")
		}
		for k, v := range env {
			p.Env = append(p.Env, k+"="+v)
		}
		switch {
		case jailed && os.Geteuid() == 0:
			if err := os.Chown(inJail(dataDir), uid, gid); err != nil {
				t.Fatal(err)
			}
			p.SysProcAttr = &syscall.SysProcAttr{Chroot: jail, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		case jailed:
			p.SysProcAttr = &syscall.SysProcAttr{Chroot: jail, Cloneflags: syscall.CLONE_NEWUSER,
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}}
		}
		stdout, err := p.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.Stderr = &stderr
		return p, stdout, p.Start()
	}
	jailed := true
	p, stdout, err := start(true)
	if err != nil {
		// Only a chroot or user namespace this machine refuses falls back; a binary that cannot start
		// alone (a dynamic one finds no loader: ENOENT) fails.
		if os.Geteuid() == 0 || !slices.ContainsFunc([]error{syscall.EPERM, syscall.EINVAL, syscall.ENOSPC, syscall.ENOSYS, syscall.EUSERS},
			func(e error) bool { return errors.Is(err, e) }) {
			t.Fatalf("the binary does not start in a root of its own: %v", err)
		}
		t.Logf("no chroot here (%v): running the binary where it was built", err)
		jailed = false
		checkEmbeddedZone(t, bin)
		if p, stdout, err = start(false); err != nil {
			t.Fatal(err)
		}
	}
	var exitErr error
	exited := make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exitErr = p.Wait()
		close(exited)
	}()
	defer func() {
		select {
		case <-exited:
		default:
			_ = p.Process.Kill()
			<-exited
		}
	}()

	// Its log: the first line's time is in Asia/Tokyo (time.Local loaded from TZ, with no zone file
	// reachable: only the embedded database has it), and "listening" means businessHours and the
	// request desk loaded TZ too, and the store opened in DATA_DIR as the image's user.
	var first string
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				<-exited
				t.Fatalf("the server exited before listening: %v\nstderr: %s", exitErr, stderr.String())
			}
			if first == "" {
				first = line
			}
			if strings.Contains(line, `"msg":"listening"`) {
				break wait
			}
		case <-deadline:
			t.Fatalf("the server did not listen within 60 s\nstderr: %s", stderr.String())
		}
	}
	var rec struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal([]byte(first), &rec); err != nil {
		t.Fatalf("first log line %q: %v", first, err)
	}
	if jailed && !strings.HasSuffix(rec.Time, "+09:00") {
		t.Errorf("first log line's time %q: not Asia/Tokyo, so the zone database is not in the binary", rec.Time)
	}

	// The health checks fly.toml points at.
	client := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, resp.StatusCode)
		}
	}

	// Fly's stop: SIGTERM, then SIGKILL after kill_timeout.
	killTimeout := duration(t, "kill_timeout", fc.KillTimeout)
	stopAt := time.Now()
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines { // drain
		}
	}()
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("the server exited with %v after SIGTERM\nstderr: %s", exitErr, stderr.String())
		}
		t.Logf("chroot: %v; stopped %s after SIGTERM (kill_timeout %s)", jailed, time.Since(stopAt).Round(time.Millisecond), killTimeout)
	case <-time.After(killTimeout):
		t.Fatalf("the server did not stop within kill_timeout %s of SIGTERM: Fly would SIGKILL it", killTimeout)
	}

	// The store's files are the image user's, in DATA_DIR.
	if jailed && os.Geteuid() == 0 {
		fi, err := os.Stat(filepath.Join(inJail(dataDir), "privacybot.lock"))
		if err != nil {
			t.Fatalf("no store in DATA_DIR %s: %v", dataDir, err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != uid || int(st.Gid) != gid) {
			t.Errorf("the store's files belong to %d:%d, not the image's user %d:%d", st.Uid, st.Gid, uid, gid)
		}
	}
}

// checkStatic fails unless the binary needs no dynamic loader and carries no symbols or DWARF.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %s program header: it is not statically linked", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("the binary has a .dynamic section: it is not statically linked")
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v", libs)
	}
	for _, name := range []string{".symtab", ".debug_info", ".zdebug_info"} {
		if f.Section(name) != nil {
			t.Errorf("the binary has %s: -ldflags \"-s -w\" did not apply", name)
		}
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("static binary: %.1f MB", float64(fi.Size())/(1<<20))
	}
}

// checkEmbeddedZone looks for the zip entry "Asia/Tokyo" of time/tzdata's embedded archive.
func checkEmbeddedZone(t *testing.T, bin string) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	name := []byte("Asia/Tokyo")
	for i := 0; ; {
		j := bytes.Index(data[i:], name)
		if j < 0 {
			break
		}
		at := i + j
		if h := at - 30; h >= 0 && bytes.Equal(data[h:h+4], []byte("PK\x03\x04")) &&
			binary.LittleEndian.Uint16(data[h+26:]) == uint16(len(name)) {
			return
		}
		i = at + 1
	}
	t.Error("no Asia/Tokyo entry of an embedded zone database in the binary (build tag timetzdata)")
}

// lockedBuffer is the server's stderr, read while the server may still write it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
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
