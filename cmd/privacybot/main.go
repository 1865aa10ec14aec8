// Command privacybot is the LINE privacy desk of 株式会社エネマネ.
//
//	privacybot [serve]   run the webhook server (the default)
//	privacybot nlu ...   classify messages from stdin, or evaluate the classifier on a TSV file
//	privacybot user ...  staff accounts of the console: user add --role admin EMAIL, user list
package main

import (
	"fmt"
	"os"
)

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
	case "help", "-h", "--help":
		fmt.Println("usage: privacybot [serve | nlu [eval FILE.tsv] | richmenu [--dry-run] [--image FILE]]")
	default:
		err = fmt.Errorf("unknown command %q (try: serve, nlu)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "privacybot:", err)
		os.Exit(1)
	}
}
