package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/store"
)

// scopeFlag collects --scope: repeated (--scope optouts --scope requests), comma-separated
// (--scope optouts,requests), or both.
type scopeFlag []string

func (s *scopeFlag) String() string     { return strings.Join(*s, ",") }
func (s *scopeFlag) Set(v string) error { *s = append(*s, v); return nil }

// runToken manages the bearer tokens of the API (/api/v1):
//
//	privacybot token add --name NAME [--scope optouts|requests]...   prints the new token as its last line
//	privacybot token list
//	privacybot token revoke --name NAME
//
// Scopes: optouts (the marketing API; the default, so that the scripts written before scopes keep
// working) and requests (the back office's requests API). --scope may be repeated or comma-separated.
// Only a hash of each token is stored, so a lost token cannot be shown again: revoke it and add a new
// one. It opens the store of the environment like serve does (with the embedded engine, run it while
// the server is stopped: the engine's files belong to one process).
func runToken(args []string, stdout io.Writer) error {
	const usage = "usage: privacybot token add --name NAME [--scope optouts|requests]... | token list | token revoke --name NAME"
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("name", "", "the token's name (who uses it), unique among live tokens")
	var scopes scopeFlag
	fs.Var(&scopes, "scope", "a scope of the token: "+strings.Join(account.KnownScopes(), ", ")+
		" (repeat it or separate by commas; default "+account.ScopeOptouts+")")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token %s: unexpected argument %q\n%s", args[0], fs.Arg(0), usage)
	}
	var granted []string
	if args[0] == "add" {
		if *name == "" {
			return errors.New("token add: --name is required")
		}
		if len(scopes) == 0 {
			scopes = scopeFlag{account.ScopeOptouts}
		}
		var err error
		if granted, err = account.ParseScopes(scopes...); err != nil {
			return fmt.Errorf("token add: %w", err)
		}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	st, err := store.Open(ctx, storeConfig(cfg))
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	tokens := store.NewTokens(st)
	switch args[0] {
	case "add":
		tok, err := tokens.Add(ctx, *name, granted...)
		if err != nil {
			return err
		}
		label := "scope"
		if len(granted) > 1 {
			label = "scopes"
		}
		fmt.Fprintf(stdout, "created token %q (%s %s); it is shown only now:\n%s\n", *name, label,
			strings.Join(granted, ","), tok)
		return nil
	case "list":
		list, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPES\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, strings.Join(t.Granted(), ","),
				t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if *name == "" {
			return errors.New("token revoke: --name is required")
		}
		if err := tokens.Revoke(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked token %q\n", *name)
		return nil
	}
	return errors.New(usage)
}
