package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/store"
)

// runUser manages staff accounts of the console:
//
//	privacybot user add [--role admin|agent|privacy|marketing] [--name NAME] EMAIL   (password: first line of stdin)
//	privacybot user list
//
// It opens the store of the environment (MONGODB_URI, or the embedded engine under DATA_DIR: run it
// while the server is stopped, as the embedded engine's files belong to one process).
func runUser(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: privacybot user add [--role admin|agent|privacy|marketing] [--name NAME] EMAIL | user list")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	open := func() (*store.Store, error) { return store.Open(ctx, storeConfig(cfg)) }
	switch args[0] {
	case "add":
		fs := flag.NewFlagSet("user add", flag.ContinueOnError)
		fs.SetOutput(stdout)
		role := fs.String("role", account.RoleAgent, "admin, agent or marketing")
		name := fs.String("name", "", "name shown to customers when joining a chat (default: the e-mail's local part)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("user add: give exactly one EMAIL (flags before it)")
		}
		email := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
		if !strings.Contains(email, "@") {
			return fmt.Errorf("user add: %q is not an e-mail address", email)
		}
		if !account.ValidRole(*role) {
			return fmt.Errorf("user add: unknown role %q (admin, agent, privacy, marketing)", *role)
		}
		if *name == "" {
			*name, _, _ = strings.Cut(email, "@")
		}
		fmt.Fprintf(stdout, "Password for %s (at least %d characters): ", email, account.MinPasswordLen)
		pw, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		fmt.Fprintln(stdout)
		hash, err := account.HashPassword(strings.TrimRight(pw, "\r\n"), 0)
		if err != nil {
			return err
		}
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close(context.Background())
		if err := st.AddStaff(ctx, account.Staff{Email: email, Name: *name, Role: *role, Hash: hash, CreatedAt: time.Now()}); err != nil {
			if errors.Is(err, account.ErrExists) {
				return fmt.Errorf("user add: %s already has an account (change it in the console's Staff page)", email)
			}
			return err
		}
		_ = st.Audit(ctx, account.AuditEntry{Actor: "cli", Action: "staff.add", Target: email, Detail: "role=" + *role})
		fmt.Fprintf(stdout, "Added %s (%s).\n", email, *role)
		return nil
	case "list":
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close(context.Background())
		list, err := st.ListStaff(ctx)
		if err != nil {
			return err
		}
		for _, s := range list {
			state := ""
			if s.Disabled {
				state = " (disabled)"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s%s\n", s.Email, s.Role, s.Name, state)
		}
		return nil
	}
	return fmt.Errorf("user: unknown subcommand %q (add, list)", args[0])
}
