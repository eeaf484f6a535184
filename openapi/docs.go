package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
)

// DocsPage renders spec, an OpenAPI 3 document in JSON, as one self-contained HTML page: the
// API reference for people. It loads nothing from elsewhere (no scripts, fonts or CDN) because
// servers may run on closed networks; the only link out is to the spec itself.
func DocsPage(spec []byte) ([]byte, error) {
	var doc specDoc
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("openapi: docs page: %w", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, errors.New("openapi: docs page: not an OpenAPI 3 document")
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, newPage(&doc)); err != nil {
		return nil, fmt.Errorf("openapi: docs page: %w", err)
	}
	return buf.Bytes(), nil
}

// SpecPath is where the server publishes the document the page is rendered from.
const SpecPath = "/openapi.json"

//go:embed docs.html
var docsHTML string

var docsTemplate = template.Must(template.New("docs").Parse(docsHTML))

// methods lists HTTP methods in the order the page shows them.
var methods = []string{"get", "post", "put", "patch", "delete", "head", "options", "trace"}

// page is what the template renders: the spec flattened into display strings, so that the
// template holds no logic beyond loops.
type page struct {
	Title, Version, Description, SpecPath string
	Groups                                []group
	Schemas                               []schemaView
}

type group struct {
	ID, Name, Description string
	Ops                   []opView
}

type opView struct {
	ID, Method, Path, OperationID, Summary, Description string
	Deprecated                                          bool
	Security                                            []string // alternatives; empty = public
	Params                                              []fieldView
	Body                                                *bodyView
	Responses                                           []responseView
}

// fieldView is a parameter or a schema property.
type fieldView struct {
	Name, In, Description string
	Required              bool
	Type                  typeLabel
}

type bodyView struct {
	Description string
	Required    bool
	Content     []mediaView
}

type responseView struct {
	Status, Description string
	Headers             []string
	Content             []mediaView
}

type mediaView struct {
	Type   string
	Schema typeLabel
}

type schemaView struct {
	ID, Name, Description string
	Type                  typeLabel
	Props                 []fieldView
}

// typeLabel is a schema shown inline: its text, the anchor of the named schema it refers to
// (if any) and its allowed values.
type typeLabel struct {
	Text, Anchor, Enum string
}

func newPage(doc *specDoc) page {
	p := page{
		Title:       doc.Info.Title,
		Version:     doc.Info.Version,
		Description: doc.Info.Description,
		SpecPath:    SpecPath,
		Groups:      groupOperations(doc),
	}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		p.Schemas = append(p.Schemas, newSchemaView(name, doc.Components.Schemas[name]))
	}
	return p
}

// groupOperations puts every operation under each of its tags: declared tags first, in the
// order the spec declares them, then the others alphabetically, then untagged ones.
func groupOperations(doc *specDoc) []group {
	byTag := map[string][]opView{}
	for _, path := range sortedKeys(doc.Paths) {
		item := doc.Paths[path]
		for _, method := range methods {
			op := item.operation(method)
			if op == nil {
				continue
			}
			tags := op.Tags
			if len(tags) == 0 {
				tags = []string{"other"}
			}
			for _, tag := range tags {
				byTag[tag] = append(byTag[tag], newOpView(doc, tag, method, path, item, op))
			}
		}
	}
	var groups []group
	for _, tag := range tagOrder(doc, byTag) {
		groups = append(groups, group{ID: anchor("tag", tag), Name: tag, Description: doc.tagDescription(tag), Ops: byTag[tag]})
	}
	return groups
}

func tagOrder(doc *specDoc, byTag map[string][]opView) []string {
	var order []string
	for _, t := range doc.Tags {
		if _, ok := byTag[t.Name]; ok && !slices.Contains(order, t.Name) {
			order = append(order, t.Name)
		}
	}
	for _, t := range sortedKeys(byTag) {
		if !slices.Contains(order, t) && t != "other" {
			order = append(order, t)
		}
	}
	if _, ok := byTag["other"]; ok && !slices.Contains(order, "other") {
		order = append(order, "other")
	}
	return order
}

func newOpView(doc *specDoc, tag, method, path string, item pathItem, op *operation) opView {
	v := opView{
		ID:          anchor("op", tag, method, path),
		Method:      strings.ToUpper(method),
		Path:        path,
		OperationID: op.OperationID,
		Summary:     op.Summary,
		Description: op.Description,
		Deprecated:  op.Deprecated,
		Security:    doc.securityLabels(op.Security),
	}
	for _, prm := range mergeParams(doc, item.Parameters, op.Parameters) {
		v.Params = append(v.Params, fieldView{Name: prm.Name, In: prm.In, Description: prm.Description,
			Required: prm.Required, Type: label(prm.Schema)})
	}
	if body := resolve(op.RequestBody, doc.Components.RequestBodies); body != nil {
		v.Body = &bodyView{Description: body.Description, Required: body.Required, Content: mediaViews(body.Content)}
	}
	for _, status := range sortedKeys(op.Responses) {
		r := resolve(op.Responses[status], doc.Components.Responses)
		if r == nil {
			continue
		}
		v.Responses = append(v.Responses, responseView{Status: status, Description: r.Description,
			Headers: sortedKeys(r.Headers), Content: mediaViews(r.Content)})
	}
	return v
}

// mergeParams applies OpenAPI's rule that an operation parameter overrides a path-level one
// with the same name and location.
func mergeParams(doc *specDoc, shared, own []*parameter) []*parameter {
	var out []*parameter
	seen := map[string]bool{}
	for _, p := range append(slices.Clone(own), shared...) {
		p = resolve(p, doc.Components.Parameters)
		if p == nil || seen[p.In+"\x00"+p.Name] {
			continue
		}
		seen[p.In+"\x00"+p.Name] = true
		out = append(out, p)
	}
	return out
}

func mediaViews(content map[string]*mediaType) []mediaView {
	var out []mediaView
	for _, name := range sortedKeys(content) {
		out = append(out, mediaView{Type: name, Schema: label(content[name].schema())})
	}
	return out
}

func newSchemaView(name string, s *schema) schemaView {
	v := schemaView{ID: anchor("schema", name), Name: name}
	if s == nil {
		return v
	}
	v.Description, v.Type = s.Description, label(s)
	for _, prop := range sortedKeys(s.Properties) {
		ps := s.Properties[prop]
		desc := ""
		if ps != nil {
			desc = ps.Description
		}
		v.Props = append(v.Props, fieldView{Name: prop, Description: desc,
			Required: slices.Contains(s.Required, prop), Type: label(ps)})
	}
	return v
}

// label describes a schema in a few words: a schema name, "T[]", "map[string]T" or a
// primitive type with its format, e.g. "string (binary)".
func label(s *schema) typeLabel {
	switch {
	case s == nil:
		return typeLabel{}
	case s.Ref != "":
		name := refName(s.Ref)
		return typeLabel{Text: name, Anchor: anchor("schema", name)}
	case len(s.AllOf) == 1:
		l := label(s.AllOf[0])
		l.Enum = enumText(s.Enum)
		return l
	case len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0:
		return combinedLabel(s)
	case s.Type.is("array"):
		l := label(s.Items)
		l.Text += "[]"
		return l
	}
	text := strings.Join(s.Type, " | ")
	if extra := s.additional(); extra != nil {
		l := label(extra)
		l.Text = "map[string]" + l.Text
		return l
	}
	if text == "" {
		text = "any"
	}
	if s.Format != "" {
		text += " (" + s.Format + ")"
	}
	return typeLabel{Text: text, Enum: enumText(s.Enum)}
}

func combinedLabel(s *schema) typeLabel {
	parts, sep := s.AllOf, " & "
	if len(s.OneOf) > 0 {
		parts, sep = s.OneOf, " | "
	} else if len(s.AnyOf) > 0 {
		parts, sep = s.AnyOf, " | "
	}
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = label(p).Text
	}
	return typeLabel{Text: strings.Join(texts, sep)}
}

func enumText(values []any) string {
	texts := make([]string, len(values))
	for i, v := range values {
		texts[i] = fmt.Sprint(v)
	}
	return strings.Join(texts, ", ")
}

// anchor builds a fragment id from parts, keeping only characters that need no escaping.
func anchor(parts ...string) string {
	id := strings.Join(parts, "-")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
