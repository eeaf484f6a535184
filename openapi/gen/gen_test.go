package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository whose spec is checked. Point it elsewhere to try the generator on
// another tree: go test . -args -root /path/to/tree
var root = flag.String("root", "../..", "repository root")

// requireAnnotations skips when the server's general API info does not exist yet: until then
// openapi.json is a hand-made placeholder and there is nothing to regenerate.
func requireAnnotations(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(*root, searchDirs[0], "main.go")); err != nil {
		t.Skipf("no %s/main.go with swag annotations yet: %v", searchDirs[0], err)
	}
}

func TestCommittedSpecIsFresh(t *testing.T) {
	requireAnnotations(t)
	swagger2, openapi3, err := Generate(*root)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{SwaggerFile, swagger2}, {OpenAPIFile, openapi3}} {
		name, want := f.name, f.want
		got, err := os.ReadFile(filepath.Join(*root, "openapi", name))
		if err != nil {
			t.Errorf("openapi/%s: %v; run `make openapi` and commit the result", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("openapi/%s is stale (%s); run `make openapi` and commit the result",
				name, firstDifference(got, want))
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	requireAnnotations(t)
	a2, a3, err := Generate(*root)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	b2, b3, err := Generate(*root)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !bytes.Equal(a2, b2) || !bytes.Equal(a3, b3) {
		t.Errorf("two runs differ: swagger %s; openapi %s", firstDifference(a2, b2), firstDifference(a3, b3))
	}
}

func TestSpecIsValidOpenAPI3(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(*root, "openapi", OpenAPIFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := loadSpec(data) // kin-openapi's loader, then doc.Validate
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	requireAnnotations(t)

	ref := doc.Components.SecuritySchemes[bearerScheme]
	if ref == nil || ref.Value == nil {
		t.Fatalf("components.securitySchemes.%s is missing", bearerScheme)
	}
	if s := ref.Value; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("%s = {type: %q, scheme: %q}, want http bearer", bearerScheme, s.Type, s.Scheme)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId; add `// @ID name` to its annotations", method, path)
			}
		}
	}
}

func TestConvertFixUps(t *testing.T) {
	const swagger2 = `{
  "swagger": "2.0",
  "info": {"title": "t", "version": "1"},
  "host": "example.com", "basePath": "/api/v1",
  "securityDefinitions": {"BearerAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}},
  "paths": {"/uploads/{id}": {"patch": {
    "operationId": "tusPatch",
    "consumes": ["application/offset+octet-stream"],
    "parameters": [
      {"name": "id", "in": "path", "required": true, "type": "string"},
      {"name": "body", "in": "body", "required": true, "schema": {"type": "string"}}],
    "responses": {"204": {"description": "No Content"}},
    "security": [{"BearerAuth": []}]}}}
}`
	out, err := convert([]byte(swagger2))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := loadSpec(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := doc.Components.SecuritySchemes[bearerScheme].Value; s.Type != "http" || s.Scheme != "bearer" || s.BearerFormat != "JWT" {
		t.Errorf("BearerAuth = %+v, want http bearer JWT", s)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %v, want [/]", doc.Servers)
	}
	item := doc.Paths.Value("/api/v1/uploads/{id}")
	if item == nil || item.Patch == nil {
		t.Fatalf("base path not folded into paths: %v", doc.Paths.Keys())
	}
	body := item.Patch.RequestBody.Value.Content.Get("application/offset+octet-stream")
	if body == nil || body.Schema.Value.Format != "binary" {
		t.Errorf("tus PATCH body lost format binary: %s", out)
	}
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Error("output lacks a trailing newline")
	}
}

func TestNameCollisionsAreRefused(t *testing.T) {
	tests := []struct {
		name, definitions string
		wantErr           bool
	}{
		{"OK", `{"api.Session": {}, "handlers.JoinRequest": {}}`, false},
		{"RenamedWithNameComment", `{"api.Link": {}, "HandlerLink": {}}`, false},
		{"ErrSameStructName", `{"api.Link": {}, "handlers.Link": {}}`, true},
		{"ErrNameCommentClash", `{"api.Config": {}, "Config": {}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkNameCollisions([]byte(`{"definitions": ` + tt.definitions + `}`))
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

// firstDifference describes where two files start to differ, so a failure says where to look.
func firstDifference(got, want []byte) string {
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) && i < len(wl); i++ {
		if gl[i] != wl[i] {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, strings.TrimSpace(gl[i]), strings.TrimSpace(wl[i]))
		}
	}
	return fmt.Sprintf("committed has %d lines, generated %d", len(gl), len(wl))
}
