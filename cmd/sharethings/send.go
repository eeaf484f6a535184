package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
)

// sendUsage is printed by "sharethings send -h".
const sendUsage = `Usage: sharethings send -s SESSION [flags] [FILE|DIR ...]

Encrypts and shares files (a directory's files, not its subdirectories), or stdin when no
file is given or FILE is "-": stdin is shared as text unless --as-file names it.

  echo "deploy done" | sharethings send -s team
  sharethings send -s team report.pdf photos/
`

// sendCmd shares files or stdin: one item per file.
func sendCmd(ctx context.Context, args []string, env cliEnv) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	chunkSize := fs.Int("chunk-size", 4<<20, "plaintext bytes per chunk (64 KiB to 16 MiB)")
	asFile := fs.String("as-file", "", "share stdin as a file with this name instead of as text")
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	inputs, err := expandInputs(fs.Args())
	if err != nil {
		return err
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	defer s.close()
	for _, in := range inputs {
		if err := s.sendInput(ctx, env, &f, in, *chunkSize, *asFile); err != nil {
			return err
		}
	}
	return nil
}

// expandInputs turns the arguments into the files to send, "-" standing for stdin.
func expandInputs(args []string) ([]string, error) {
	if len(args) == 0 {
		return []string{"-"}, nil
	}
	var inputs []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		switch {
		case arg == "-":
			inputs = append(inputs, arg)
		case err != nil:
			return nil, usagef("%v", err)
		case info.IsDir():
			files, err := dirFiles(arg)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, files...)
		default:
			inputs = append(inputs, arg)
		}
	}
	return inputs, nil
}

// dirFiles lists the regular files directly in dir, in name order.
func dirFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files, nil
}

// sendInput shares one file, or stdin.
func (s *session) sendInput(ctx context.Context, env cliEnv, f *clientFlags, path string, chunkSize int, asFile string) error {
	src, meta, err := openInput(env, path, asFile)
	if err != nil {
		return err
	}
	defer src.Close()
	meta.ChunkSize = chunkSize
	item := s.keys.Item(newContentID())
	progress := newProgress(env.stderr, displayName(meta), e2ee.TotalSize(meta.Size, chunkSize), f.quiet)
	if err := s.upload(ctx, item, src, meta, progress); err != nil {
		progress.fail()
		return fmt.Errorf("%s: %w", displayName(meta), err)
	}
	progress.done()
	fmt.Fprintln(env.stdout, item.ContentID)
	return nil
}

// upload announces an item and uploads its chunks, sealing the next chunk while the current
// one is on its way.
func (s *session) upload(ctx context.Context, item *e2ee.Item, src io.Reader, meta e2ee.Meta, progress *progress) error {
	sealed, err := item.SealMeta(meta)
	if err != nil {
		return err
	}
	sealer := item.NewSealer(src, meta.Size, meta.ChunkSize)
	_, err = s.api.Announce(ctx, client.Announcement{
		ContentID: item.ContentID, TotalChunks: sealer.Total(), TotalSize: e2ee.TotalSize(meta.Size, meta.ChunkSize),
		ChunkSize: meta.ChunkSize, Metadata: sealed,
	})
	if err != nil {
		return err
	}
	blobs := sealAhead(ctx, sealer)
	var sent int64
	for b := range blobs {
		if b.err != nil {
			return b.err
		}
		err := s.api.UploadChunk(ctx, item.ContentID, b.index, bytes.NewReader(b.data), int64(len(b.data)),
			func(n int64) { progress.set(sent + n) })
		if err != nil {
			return fmt.Errorf("chunk %d: %w", b.index, err)
		}
		sent += int64(len(b.data))
	}
	return ctx.Err()
}

type sealedChunk struct {
	index int
	data  []byte
	err   error
}

// sealAhead seals chunks in a goroutine, one ahead of the uploader, each in its own buffer.
func sealAhead(ctx context.Context, sealer *e2ee.Sealer) <-chan sealedChunk {
	out := make(chan sealedChunk, 1)
	go func() {
		defer close(out)
		for {
			blob, index, err := sealer.Next()
			if err == io.EOF {
				return
			}
			c := sealedChunk{index: index, data: bytes.Clone(blob), err: err}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// openInput opens a file, or spools stdin to a temporary file so its size is known before
// anything is announced, and describes it.
func openInput(env cliEnv, path, asFile string) (io.ReadCloser, e2ee.Meta, error) {
	if path != "-" {
		return openFile(path)
	}
	spool, size, err := spoolStdin(env.stdin)
	if err != nil {
		return nil, e2ee.Meta{}, err
	}
	if asFile != "" {
		return spool, e2ee.Meta{Kind: "file", Name: asFile, Mime: mimeOf(asFile), Size: size}, nil
	}
	meta := e2ee.Meta{Kind: "text", Mime: "text/plain;charset=utf-8", Size: size}
	if text, err := textStats(spool, size); err == nil {
		meta.Text = text
	}
	return spool, meta, nil
}

func openFile(path string) (io.ReadCloser, e2ee.Meta, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, e2ee.Meta{}, usagef("%v", err)
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, e2ee.Meta{}, err
	}
	name := filepath.Base(path)
	meta := e2ee.Meta{Kind: "file", Name: name, Mime: mimeOf(name), Size: info.Size()}
	if strings.HasPrefix(meta.Mime, "image/") {
		meta.Kind = "image"
	}
	return file, meta, nil
}

// spoolStdin copies stdin to an unlinked temporary file, readable from its start.
func spoolStdin(stdin io.Reader) (*os.File, int64, error) {
	spool, err := os.CreateTemp("", "sharethings-stdin-*")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(spool.Name()) // gone when closed; nothing of it outlives the command
	size, err := io.Copy(spool, stdin)
	if err == nil {
		_, err = spool.Seek(0, io.SeekStart)
	}
	if err != nil {
		spool.Close()
		return nil, 0, err
	}
	return spool, size, nil
}

// textStats counts characters and lines of a small text, for receivers' previews; large or
// non-UTF-8 input gets none.
func textStats(spool *os.File, size int64) (*e2ee.TextMeta, error) {
	if size > 1<<20 {
		return nil, fmt.Errorf("too large to count")
	}
	raw := make([]byte, size)
	if _, err := spool.ReadAt(raw, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("not UTF-8")
	}
	lines := bytes.Count(raw, []byte("\n"))
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		lines++
	}
	return &e2ee.TextMeta{Chars: utf8.RuneCount(raw), Lines: lines}, nil
}

func mimeOf(name string) string {
	if m := mime.TypeByExtension(filepath.Ext(name)); m != "" {
		return m
	}
	return "application/octet-stream"
}

// displayName names an item in messages.
func displayName(m e2ee.Meta) string {
	if m.Name == "" {
		return m.Kind
	}
	return m.Name
}

// newContentID returns a random canonical lowercase UUID (version 4).
func newContentID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
