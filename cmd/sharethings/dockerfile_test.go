package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// No Docker engine runs in CI, so these tests hold the Dockerfile to what the server needs: a
// new enough cgo toolchain, a non-root runtime with its data on a volume, a working health
// check, and only setting names the server knows (in the Dockerfile and the README alike).

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct{ cmd, args string }

// dockerStages reads ../../Dockerfile into stages, each a list of instructions starting at FROM.
func dockerStages(t *testing.T) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var line string
	for _, raw := range strings.Split(string(b), "\n") {
		raw = strings.TrimSpace(raw)
		if strings.HasPrefix(raw, "#") || (raw == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(raw, `\`); ok {
			line += cont + " "
			continue
		}
		line += raw
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")}
		line = ""
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a builder and a runtime stage", len(stages))
	}
	return stages
}

// has reports whether a stage has an instruction cmd whose arguments match re.
func has(stage []instruction, cmd, re string) bool {
	for _, in := range stage {
		if in.cmd == cmd && regexp.MustCompile(re).MatchString(in.args) {
			return true
		}
	}
	return false
}

// versionParts turns "1.26" or "1.26.0" into its numbers.
func versionParts(t *testing.T, v string) []int {
	t.Helper()
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("bad version %q", v)
		}
		out = append(out, n)
	}
	return out
}

// atLeast compares over the parts the image tag names: golang:1.26 floats to the newest 1.26.x,
// so it satisfies go 1.26.3.
func atLeast(image, need []int) bool {
	for i := range min(len(image), len(need)) {
		if image[i] != need[i] {
			return image[i] > need[i]
		}
	}
	return true
}

func TestDockerfile(t *testing.T) {
	stages := dockerStages(t)
	build, runtime := stages[0], stages[len(stages)-1]

	t.Run("BuilderGoVersion", func(t *testing.T) {
		gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		need := regexp.MustCompile(`(?m)^go (\d+(?:\.\d+)*)\s*$`).FindSubmatch(gomod)
		image := regexp.MustCompile(`^golang:(\d+(?:\.\d+)*)\S*`).FindStringSubmatch(build[0].args)
		if need == nil || image == nil {
			t.Fatalf("want a go directive in go.mod and FROM golang:<version> first; got %q", build[0].args)
		}
		if !atLeast(versionParts(t, image[1]), versionParts(t, string(need[1]))) {
			t.Errorf("builder image is Go %s, go.mod needs %s", image[1], need[1])
		}
	})

	for _, c := range []struct {
		name, cmd, re string
		stage         []instruction
	}{
		{"BuilderCgo", "ENV", `(^|\s)CGO_ENABLED=1(\s|$)`, build},
		{"BuildsServer", "RUN", `go build .*\./cmd/sharethings(\s|$)`, build},
		{"RuntimeNonRootUser", "USER", `^([1-9]\d*|[a-z_][a-z0-9_-]*)(:\S+)?$`, runtime},
		{"DataVolume", "VOLUME", `^(/data|\[\s*"/data"\s*\])$`, runtime},
		{"DataDirEnv", "ENV", `(^|\s)SHARETHINGS_DATA_DIR=/data(\s|$)`, runtime},
		{"Expose8080", "EXPOSE", `(^|\s)8080(/tcp)?(\s|$)`, runtime},
		{"Healthcheck", "HEALTHCHECK", `CMD \["/usr/local/bin/sharethings", "healthcheck"`, runtime},
		{"Entrypoint", "ENTRYPOINT", `^\["/usr/local/bin/sharethings"\]$`, runtime},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !has(c.stage, c.cmd, c.re) {
				t.Errorf("no %s matching %s in the %s stage", c.cmd, c.re, c.stage[0].args)
			}
		})
	}
	t.Run("RuntimeNotRoot", func(t *testing.T) {
		if has(runtime, "USER", `^(root|0)(:|$)`) {
			t.Error("the runtime stage runs as root")
		}
	})
}

// TestDockerfileSettingNames checks that every SHARETHINGS_* name in the Dockerfile and the
// README is a real setting or client variable, so a renamed one cannot leave stale
// documentation behind.
func TestDockerfileSettingNames(t *testing.T) {
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.env()] = true
	}
	for _, name := range clientEnvironment {
		known[name] = true
	}
	for _, file := range []string{filepath.Join(repoRoot, "Dockerfile"), filepath.Join(repoRoot, "README.md")} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range regexp.MustCompile(`SHARETHINGS_[A-Z0-9_]*[A-Z0-9]`).FindAllString(string(b), -1) {
			if !known[name] {
				t.Errorf("%s mentions %s, which is not a setting", file, name)
			}
		}
	}
}
