package handlers

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sharethings/sharethings/openapi"
	"github.com/sharethings/sharethings/storage"
)

var ginParam = regexp.MustCompile(`:(\w+)`)

const uploadsPrefix = "/api/v1/uploads"

// TestSpecListsEveryRoute keeps the published OpenAPI document and the router in step: a
// route without documentation, or documentation without a route, fails.
func TestSpecListsEveryRoute(t *testing.T) {
	db, err := storage.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := NewServer(Services{Sessions: db, Contents: db, Uploads: db, Chunks: db}, NewTokens(make([]byte, 32), time.Hour, time.Now), Options{JoinAttemptsPerMinute: 1, JoinFailuresPerMinute: 1}, time.Now)
	engine, err := s.Engine()
	if err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for _, r := range engine.Routes() {
		if strings.HasPrefix(r.Path, uploadsPrefix) {
			continue // tusd's own routes; checked below
		}
		routed[strings.ToLower(r.Method)+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	for _, op := range []string{"options /api/v1/uploads", "post /api/v1/uploads", "head /api/v1/uploads/{uploadId}", "patch /api/v1/uploads/{uploadId}"} {
		routed[op] = true
	}

	var spec struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.") {
		t.Fatalf("openapi.json is version %q, want 3.x", spec.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range spec.Paths {
		for method := range ops {
			documented[method+" "+path] = true
		}
	}
	for _, missing := range difference(routed, documented) {
		t.Errorf("route %s is not in openapi.json: annotate it and run make openapi", missing)
	}
	for _, extra := range difference(documented, routed) {
		t.Errorf("openapi.json documents %s, which no route serves", extra)
	}
}

func difference(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] && (!strings.HasPrefix(k, "head ") || strings.Contains(k, uploadsPrefix)) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
