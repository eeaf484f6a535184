package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line bar on a terminal's stderr while an item moves, at most ten times
// a second. Off a terminal, or with -q, it draws nothing: piped output stays clean.
type progress struct {
	w            io.Writer
	name         string
	total, moved int64
	start, last  time.Time
	on           bool
}

func newProgress(w io.Writer, name string, total int64, quiet bool) *progress {
	return &progress{w: w, name: name, total: total, start: time.Now(), on: !quiet && isTerminal(w)}
}

// set records how many bytes have moved so far.
func (p *progress) set(moved int64) {
	p.moved = moved
	if p.on && time.Since(p.last) >= 100*time.Millisecond {
		p.last = time.Now()
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	fraction := 1.0
	if p.total > 0 {
		fraction = min(1, float64(p.moved)/float64(p.total))
	}
	filled := int(fraction * width)
	rate := float64(p.moved) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r%-24.24s [%s%s] %3.0f%% %s/s ", p.name, strings.Repeat("=", filled),
		strings.Repeat(" ", width-filled), fraction*100, humanBytes(int64(rate)))
}

// done completes the bar and ends its line.
func (p *progress) done() {
	if p.on {
		p.moved = p.total
		p.draw()
		fmt.Fprintln(p.w)
	}
}

// fail ends the bar's line so that the error message starts on its own.
func (p *progress) fail() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}

// humanBytes writes a byte count the way people read it: 512 B, 3.2 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
