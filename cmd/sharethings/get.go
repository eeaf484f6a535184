package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
)

// getUsage is printed by "sharethings get -h".
const getUsage = `Usage: sharethings get -s SESSION [flags] CONTENT_ID

Downloads and decrypts one item: text to stdout, a file or image into the current directory
under its own (made safe) name, or wherever -o says ("-o -" is stdout).
`

func getCmd(ctx context.Context, args []string, env cliEnv) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	out := fs.String("o", "", "write to this file, or - for stdout")
	force := fs.Bool("force", false, "overwrite an existing file")
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("get takes one content id")
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.close()
	detail, err := s.api.Item(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	o, err := s.openItem(detail.Content)
	if err != nil {
		return err
	}
	switch {
	case *out == "-" || (*out == "" && o.meta.Kind == "text"):
		return s.writeVerified(ctx, o, env.stdout)
	case *out == "":
		path, err := s.saveItem(ctx, o, ".", *force, f.quiet, env.stderr)
		if err == nil {
			f.notef(env, "saved %s", path)
		}
		return err
	}
	return s.saveAs(ctx, o, *out, *force, f.quiet, env)
}

// saveAs downloads an item to the path the user chose.
func (s *session) saveAs(ctx context.Context, o *opened, path string, force, quiet bool, env cliEnv) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return usagef("%s exists (--force overwrites it)", path)
	}
	tmp, err := s.downloadFile(ctx, o, filepath.Dir(path), quiet, env.stderr)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Rename(tmp, path)
}
