package main

import (
	"context"
	"flag"
)

// manageUsage is printed by "sharethings rm -h", "pin -h" and "unpin -h".
const manageUsage = `Usage: sharethings rm -s SESSION CONTENT_ID... | --all
       sharethings pin -s SESSION CONTENT_ID...
       sharethings unpin -s SESSION CONTENT_ID...

rm deletes items (--all: every item of the session); pin keeps items from retention.
`

// manageCmd runs rm, pin and unpin: one change per content id.
func manageCmd(ctx context.Context, name string, args []string, env cliEnv) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	all := false
	if name == "rm" {
		fs.BoolVar(&all, "all", false, "delete every item of the session")
	}
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	if all == (fs.NArg() > 0) {
		return usagef("%s takes content ids (rm: or --all)", name)
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.close()
	if all {
		return s.api.Clear(ctx)
	}
	for _, id := range fs.Args() {
		var err error
		switch name {
		case "rm":
			err = s.api.Delete(ctx, id)
		default:
			_, err = s.api.SetPinned(ctx, id, name == "pin")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
