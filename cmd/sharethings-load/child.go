package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server under test running as its own process.
type child struct {
	name    string
	cmd     *exec.Cmd
	addr    string // 127.0.0.1:port
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// startChild runs bin with args (where "{addr}" is replaced by a free loopback address) and
// waits until GET readyPath answers 200. Its output goes to a log file in dir. The child is
// killed if this process dies first.
func startChild(ctx context.Context, name, dir, bin string, args []string, readyPath string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &child{name: name, addr: addr, logPath: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() { c.waitErr = c.cmd.Wait(); close(c.done) }()
	if err := c.waitReady(ctx, readyPath); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s did not start: %w\n%s", name, err, c.logTail(20))
	}
	return c, nil
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (c *child) waitReady(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		select {
		case <-c.done:
			return fmt.Errorf("exited: %v", c.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		res, err := http.Get("http://" + c.addr + path)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// stop asks the child to end (SIGTERM), and kills it if it has not within 30 s. A slow
// stop is logged: it is a finding about the server.
func (c *child) stop() {
	start := time.Now()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		logf("%s did not stop within 30s of SIGTERM: killing it", c.name)
		c.cmd.Process.Kill()
		<-c.done
	}
	if d := time.Since(start); d > time.Second {
		logf("%s took %.1fs to stop", c.name, d.Seconds())
	}
}

// exitedEarly reports whether the child ended on its own, with why.
func (c *child) exitedEarly() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited during the round: %v\n%s", c.name, c.waitErr, c.logTail(20))
	default:
		return nil
	}
}

// logTail returns the last n lines the child wrote.
func (c *child) logTail(n int) string {
	b, _ := os.ReadFile(c.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logLines counts the lines the child wrote (with --log-level warn, each is a warning or
// worse), leaving out the runtime's GODEBUG=gctrace=1 lines.
func (c *child) logLines() int {
	b, _ := os.ReadFile(c.logPath)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "gc ") {
			n++
		}
	}
	return n
}

// keepLog copies the child's output to path.
func (c *child) keepLog(path string) {
	b, err := os.ReadFile(c.logPath)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		logf("keeping the %s log: %v", c.name, err)
	}
}

// rssKiB reads the child's resident set size.
func (c *child) rssKiB() (int64, error) { return readRSS(c.cmd.Process.Pid) }

// readRSS reads the resident set size of a process, in KiB.
func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

// parseVmRSS reads the VmRSS line of a /proc/<pid>/status file, in KiB.
func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

// cpuTime reads the CPU time (user + system) the child has used so far.
func (c *child) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on every Linux port.
const clockTicks = 100

// parseStatCPU reads utime + stime from a /proc/<pid>/stat line. The command name, field 2,
// may hold spaces and parentheses, so fields are counted after its closing parenthesis.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed stat line")
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("short stat line")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat times: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
