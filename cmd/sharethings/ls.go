package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/sharethings/sharethings/api"
)

// lsUsage is printed by "sharethings ls -h".
const lsUsage = `Usage: sharethings ls -s SESSION [--json]

Lists the session's items, pinned first, then newest first, with their decrypted names.
`

// listing is one item as ls prints it with --json.
type listing struct {
	ContentID string    `json:"contentId"`
	Kind      string    `json:"kind,omitempty"`
	Name      string    `json:"name,omitempty"`
	Mime      string    `json:"mime,omitempty"`
	Size      int64     `json:"size"`
	Sender    string    `json:"sender"`
	CreatedAt time.Time `json:"createdAt"`
	Pinned    bool      `json:"pinned"`
	Complete  bool      `json:"complete"`
	// Error says why the item could not be read (its metadata does not decrypt or check).
	Error string `json:"error,omitempty"`
}

func lsCmd(ctx context.Context, args []string, env cliEnv) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.close()
	items, err := s.api.ListAll(ctx)
	if err != nil {
		return err
	}
	listings := make([]listing, 0, len(items))
	for _, c := range items {
		listings = append(listings, s.describeItem(c))
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(listings)
	}
	printListings(env, listings)
	return nil
}

// describeItem decrypts what ls shows of an item.
func (s *session) describeItem(c api.Content) listing {
	l := listing{ContentID: c.ID, Size: c.TotalSize, Sender: c.SenderName, CreatedAt: c.CreatedAt, Pinned: c.Pinned, Complete: c.Complete}
	o, err := s.openItem(c)
	if err != nil {
		l.Error = err.Error()
		return l
	}
	l.Kind, l.Name, l.Mime, l.Size = o.meta.Kind, o.meta.Name, o.meta.Mime, o.meta.Size
	return l
}

func printListings(env cliEnv, listings []listing) {
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tSIZE\tNAME\tFROM\tSHARED")
	for _, l := range listings {
		name, kind := l.Name, l.Kind
		switch {
		case l.Error != "":
			name, kind = "(cannot decrypt)", "?"
		case !l.Complete:
			name += " (uploading)"
		}
		if l.Pinned {
			name = "📌 " + name
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ContentID, kind, humanBytes(l.Size), name, l.Sender, l.CreatedAt.Local().Format("2006-01-02 15:04"))
	}
	w.Flush()
}
