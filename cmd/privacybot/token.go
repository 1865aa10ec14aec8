package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/enemane/privacybot/bot/account"
	"github.com/enemane/privacybot/store"
)

// runToken manages the bearer tokens of the marketing API:
//
//	privacybot token add --name NAME [--scope marketing:read]   prints the new token as its last line
//	privacybot token list
//	privacybot token revoke --name NAME
//
// Only a hash of each token is stored, so a lost token cannot be shown again: revoke it and add a new
// one. It opens the store of the environment like serve does (with the embedded engine, run it while
// the server is stopped: the engine's files belong to one process).
func runToken(args []string, stdout io.Writer) error {
	const usage = "usage: privacybot token add --name NAME [--scope marketing:read] | token list | token revoke --name NAME"
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("name", "", "the token's name (who uses it), unique among live tokens")
	scope := fs.String("scope", account.ScopeMarketing, "the token's scope")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Config{URI: cfg.MongoURI, Database: cfg.MongoDatabase, DataDir: cfg.DataDir,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	tokens := store.NewTokens(st)
	switch args[0] {
	case "add":
		if *name == "" {
			return errors.New("token add: --name is required")
		}
		if *scope != account.ScopeMarketing {
			return fmt.Errorf("token add: unknown scope %q (known: %s)", *scope, account.ScopeMarketing)
		}
		tok, err := tokens.Add(ctx, *name, *scope)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created token %q (scope %s); it is shown only now:\n%s\n", *name, *scope, tok)
		return nil
	case "list":
		list, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tREVOKED")
		for _, t := range list {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Scope, t.CreatedAt.Format(time.RFC3339), revoked)
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
