package openapi

import (
	"regexp"
	"strings"
	"testing"
)

// fixtureSpec is a small OpenAPI 3 document shaped like the converter's output.
const fixtureSpec = `{
  "openapi": "3.0.3",
  "info": {"title": "Demo API", "version": "1.2.3", "description": "Shares <things> & more."},
  "servers": [{"url": "/"}],
  "tags": [{"name": "uploads", "description": "tus uploads"}, {"name": "sessions"}],
  "paths": {
    "/api/v1/sessions/{sid}/join": {"post": {
      "operationId": "joinSession", "tags": ["sessions"], "summary": "Join a session",
      "description": "Creates it first. <script>alert(\"x\")</script>",
      "parameters": [{"name": "sid", "in": "path", "required": true, "description": "Session id", "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JoinRequest"}}}},
      "responses": {
        "200": {"description": "Joined", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JoinResponse"}}}},
        "403": {"description": "Wrong passphrase", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}},
    "/api/v1/uploads/{uploadId}": {"patch": {
      "operationId": "tusPatch", "tags": ["uploads"], "summary": "Append bytes",
      "parameters": [{"name": "Upload-Offset", "in": "header", "required": true, "schema": {"type": "integer"}}],
      "requestBody": {"content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
      "responses": {"204": {"description": "No Content", "headers": {"Upload-Offset": {"schema": {"type": "integer"}}}}},
      "security": [{"BearerAuth": []}]}}
  },
  "components": {
    "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
    "schemas": {
      "JoinRequest": {"type": "object", "required": ["clientName"], "properties": {
        "clientName": {"type": "string", "description": "Shown to <others>"},
        "salt": {"type": "string", "format": "byte"}}},
      "JoinResponse": {"type": "object", "properties": {"clients": {"type": "array", "items": {"$ref": "#/components/schemas/Client"}}}},
      "Client": {"type": "object", "properties": {"clientId": {"type": "string"}}},
      "Problem": {"type": "object", "properties": {"code": {"type": "string", "enum": ["forbidden", "conflict"]}}}
    }
  }
}`

func TestDocsPage(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		wantErr  bool
		contains []string
		excludes []string
	}{
		{
			name: "OK",
			spec: fixtureSpec,
			contains: []string{
				"<title>Demo API 1.2.3", `href="/openapi.json"`,
				`<span class="method m-POST">POST</span> <code class="path">/api/v1/sessions/{sid}/join</code>`,
				`<span class="method m-PATCH">PATCH</span> <code class="path">/api/v1/uploads/{uploadId}</code>`,
				"Join a session", "joinSession", "Session id",
				"<code>application/offset&#43;octet-stream</code>", // html/template escapes '+'; browsers show it
				"string (binary)", "<code>Upload-Offset</code>", "Wrong passphrase",
				"🔒 BearerAuth (bearer JWT)", `<a href="#schema-Problem">Problem</a>`,
				`<a href="#schema-Client">Client[]</a>`, `id="schema-JoinRequest"`, "one of: forbidden, conflict",
			},
		},
		{
			name:     "EscapesHTML",
			spec:     fixtureSpec,
			contains: []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "Shares &lt;things&gt; &amp; more.", "Shown to &lt;others&gt;"},
			excludes: []string{"<script", "<things>", "<others>"},
		},
		{name: "ErrInvalidJSON", spec: `{"openapi": "3.0.3", "info": `, wantErr: true},
		{name: "ErrNotOpenAPI3", spec: `{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}`, wantErr: true},
		{
			name:     "InfoOnly",
			spec:     `{"openapi": "3.0.3", "info": {"title": "Placeholder", "version": "0"}, "paths": {}}`,
			contains: []string{"<h1>Placeholder"},
			excludes: []string{`id="schemas"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := DocsPage([]byte(tt.spec))
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error, got none")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			page := string(out)
			for _, s := range tt.contains {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(page, s) {
					t.Errorf("page contains %q", s)
				}
			}
		})
	}
}

func TestDocsPageTagOrder(t *testing.T) {
	out, err := DocsPage([]byte(fixtureSpec))
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	if strings.Index(page, "<h2>uploads</h2>") > strings.Index(page, "<h2>sessions</h2>") {
		t.Error("tags are not in the order the spec declares them")
	}
}

// The page must work on closed networks: nothing may be loaded from anywhere else.
func TestDocsPageIsSelfContained(t *testing.T) {
	out, err := DocsPage([]byte(fixtureSpec))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?i)(src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(string(out), -1) {
		if url := m[2]; !strings.HasPrefix(url, "#") && url != SpecPath {
			t.Errorf("page references %s=%q", m[1], url)
		}
	}
	for _, bad := range []string{"<script", "<link", "@import", "url("} {
		if strings.Contains(string(out), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestEmbeddedSpecRenders(t *testing.T) {
	if _, err := DocsPage(Spec); err != nil {
		t.Fatalf("embedded openapi.json: %v", err)
	}
}
