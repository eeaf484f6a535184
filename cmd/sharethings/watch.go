package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/client"
)

// watchUsage is printed by "sharethings watch -h".
const watchUsage = `Usage: sharethings watch -s SESSION [flags]
       sharethings receive -s SESSION [flags]

watch writes every item shared from now on: text to stdout, files and images into --dir.
receive does the same for the next item only, then exits. Both survive server restarts and
network cuts: the stream resumes where it stopped.
`

// watchOptions say where received items go.
type watchOptions struct {
	dir   string
	force bool
	once  bool
}

// watchCmd follows the session and receives each item as it completes.
func watchCmd(ctx context.Context, args []string, env cliEnv, once bool) error {
	name := "watch"
	if once {
		name = "receive"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	opts := watchOptions{once: once}
	fs.StringVar(&opts.dir, "dir", ".", "directory for files and images")
	fs.BoolVar(&opts.force, "force", false, "overwrite files of the same name instead of picking a new name")
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s takes no arguments", name)
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.close()
	f.notef(env, "watching %s as %q", f.session, f.name)
	err = s.api.Events(ctx, s.join.LastEventID, func(e client.Event) error {
		if e.Type != api.EventContentCompleted {
			return nil
		}
		var done struct {
			ContentID string `json:"contentId"`
		}
		if err := json.Unmarshal(e.Data, &done); err != nil {
			return fmt.Errorf("event %d: %w", e.ID, err)
		}
		err := s.receive(ctx, env, &f, opts, done.ContentID)
		var refused integrityError
		if errors.As(err, &refused) && !opts.once {
			// One bad item must not end a watch that runs unattended: report it, go on.
			fmt.Fprintf(env.stderr, "sharethings watch: %v\n", err)
			return nil
		}
		if err != nil {
			return err
		}
		if opts.once {
			return errReceived
		}
		return nil
	})
	if errors.Is(err, errReceived) {
		return nil
	}
	return err
}

// errReceived stops receive after its item.
var errReceived = errors.New("received")

// receive fetches one completed item and writes it where it belongs. An item deleted before
// it could be fetched is skipped.
func (s *session) receive(ctx context.Context, env cliEnv, f *clientFlags, opts watchOptions, contentID string) error {
	detail, err := s.api.Item(ctx, contentID)
	if client.IsCode(err, api.ECONTENTNOTFOUND) {
		f.notef(env, "item %s was deleted before it could be fetched", contentID)
		return nil
	}
	if err != nil {
		return err
	}
	o, err := s.openItem(detail.Content)
	if err != nil {
		return err
	}
	if o.meta.Kind == "text" {
		return s.writeVerified(ctx, o, env.stdout)
	}
	path, err := s.saveItem(ctx, o, opts.dir, opts.force, f.quiet, env.stderr)
	if err != nil {
		return err
	}
	f.notef(env, "saved %s", path)
	return nil
}
