// Command privacybot is the LINE privacy desk of 株式会社エネマネ.
//
//	privacybot [serve]   run the webhook server (the default)
//	privacybot nlu ...   classify messages from stdin, or evaluate the classifier on a TSV file
//	privacybot user ...  staff accounts of the console: user add --role admin EMAIL, user list
//	privacybot token ... back-office API tokens: token add --name NAME [--scope optouts,requests], token list, token revoke --name NAME
//	privacybot richmenu  create the account's rich menu through the Messaging API
//	privacybot backup FILE   write a backup of the store (the server may run) to FILE
//	privacybot restore FILE  write a backup into an empty store (the server stopped)
//	privacybot engine DIR ADDR  serve the embedded engine alone, for several instances on one machine
package main

import (
	"fmt"
	"os"
)

const usage = `usage: privacybot [command]
  serve                               run the webhook server (the default)
  nlu [eval FILE.tsv]                 classify stdin line by line, or evaluate on a labelled file
  user add --role ROLE EMAIL | list   console accounts (roles: admin, agent, privacy, marketing)
  token add --name NAME [--scope S] | list | revoke --name NAME   back-office API tokens (scopes: optouts, requests)
  richmenu [--dry-run] [--image FILE] create the rich menu through the Messaging API
  backup FILE                         back the store up to FILE (personal data: keep it safe; see docs/backup.md)
  restore FILE                        restore a backup into an empty store (embedded: with the server stopped)
  engine DIR ADDR                     serve the embedded engine alone on a loopback ADDR, for several instances
                                      on one machine (MONGODB_URI=mongodb://ADDR/); not a production database`

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "nlu":
		err = runNLU(args, os.Stdin, os.Stdout)
	case "user":
		err = runUser(args, os.Stdin, os.Stdout)
	case "token":
		err = runToken(args, os.Stdout)
	case "richmenu":
		err = runRichMenu(args, os.Stdout)
	case "backup":
		err = runBackup(args, os.Stdout)
	case "restore":
		err = runRestore(args, os.Stdout)
	case "engine":
		err = runEngine(args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Println(usage)
	default:
		err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "privacybot:", err)
		os.Exit(1)
	}
}
