package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/swaggo/swag"
	swaggen "github.com/swaggo/swag/gen"
)

// Names of the generated files inside <root>/openapi.
const (
	SwaggerFile = "swagger.json"
	OpenAPIFile = "openapi.json"
)

// searchDirs are the packages swag reads, relative to the repository root. The first one must
// hold the general API info (main.go): swag looks for MainAPIFile in the first search dir only.
var searchDirs = []string{"cmd/sharethings", "handlers", "api"}

// Generate runs swag over the sources under root and returns the Swagger 2.0 document and the
// OpenAPI 3.0 document derived from it, both as canonical JSON. It writes only to a temporary
// directory, so tests can compare the result with the committed files.
func Generate(root string) (swagger2, openapi3 []byte, err error) {
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	qualified, err := runSwag(root, false)
	if err != nil {
		return nil, nil, err
	}
	if err := checkNameCollisions(qualified); err != nil {
		return nil, nil, err
	}
	raw, err := runSwag(root, true)
	if err != nil {
		return nil, nil, err
	}
	if swagger2, err = canonicalJSON(raw); err != nil {
		return nil, nil, fmt.Errorf("swag output: %w", err)
	}
	if openapi3, err = convert(swagger2); err != nil {
		return nil, nil, err
	}
	return swagger2, openapi3, nil
}

// runSwag is `swag init --ot json [--useStructName]` through swag's Go API, so the version is
// pinned by this module's go.mod instead of whatever swag binary happens to be installed.
// The published spec uses struct names ("Session", not "api.Session"); the qualified run
// exists only to detect name clashes.
func runSwag(root string, useStructNames bool) ([]byte, error) {
	out, err := os.MkdirTemp("", "openapi-gen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)

	dirs := make([]string, len(searchDirs))
	for i, d := range searchDirs {
		// Absolute paths: swag resolves relative ones against the working directory, which
		// differs between `go run` (openapi/gen) and `go test`.
		dirs[i] = filepath.Join(root, d)
	}
	err = swaggen.New().Build(&swaggen.Config{
		SearchDir:          strings.Join(dirs, ","),
		MainAPIFile:        "main.go",
		OutputDir:          out,
		OutputTypes:        []string{"json"},
		PropNamingStrategy: swag.CamelCase,
		ParseDependency:    0, // every documented type lives in the search dirs
		ParseDepth:         100,
		UseStructNames:     useStructNames,
		RequiredByDefault:  true, // fields without omitempty are always present: typed clients rely on it
		Strict:             true, // a route declared twice is an error, not a warning
		CollectionFormat:   "csv",
		OverridesFile:      overridesFile(root),
		Debugger:           warningsOnly{mute: !useStructNames}, // warn once, not per run
	})
	if err != nil {
		return nil, fmt.Errorf("swag: %w", err)
	}
	return os.ReadFile(filepath.Join(out, SwaggerFile))
}

// overridesFile returns <root>/.swaggo when it exists. swag's CLI reads that file from the
// working directory by default; here the working directory is not the root, so say so.
func overridesFile(root string) string {
	p := filepath.Join(root, swaggen.DefaultOverridesFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return p
}

// warningsOnly drops swag's progress chatter but keeps its warnings (unknown types, skipped
// routes…), which usually point at an annotation mistake.
type warningsOnly struct{ mute bool }

func (w warningsOnly) Printf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if !w.mute && strings.Contains(strings.ToLower(msg), "warning") {
		fmt.Fprintln(os.Stderr, "swag:", strings.TrimSpace(msg))
	}
}
