package openapi

import (
	"encoding/json"
	"sort"
	"strings"
)

// The types below decode just the parts of an OpenAPI 3 document that DocsPage shows. They
// are deliberately small: a full model would mean a dependency, and the page only reads.

type specDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title, Version, Description string
	} `json:"info"`
	Tags       []struct{ Name, Description string } `json:"tags"`
	Paths      map[string]pathItem                  `json:"paths"`
	Security   []map[string][]string                `json:"security"`
	Components struct {
		Schemas         map[string]*schema       `json:"schemas"`
		Parameters      map[string]*parameter    `json:"parameters"`
		RequestBodies   map[string]*requestBody  `json:"requestBodies"`
		Responses       map[string]*response     `json:"responses"`
		SecuritySchemes map[string]*securityType `json:"securitySchemes"`
	} `json:"components"`
}

type pathItem struct {
	Parameters                                          []*parameter `json:"parameters"`
	Get, Put, Post, Delete, Options, Head, Patch, Trace *operation
}

func (p pathItem) operation(method string) *operation {
	return map[string]*operation{"get": p.Get, "put": p.Put, "post": p.Post, "delete": p.Delete,
		"options": p.Options, "head": p.Head, "patch": p.Patch, "trace": p.Trace}[method]
}

type operation struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Deprecated  bool                   `json:"deprecated"`
	Tags        []string               `json:"tags"`
	Parameters  []*parameter           `json:"parameters"`
	RequestBody *requestBody           `json:"requestBody"`
	Responses   map[string]*response   `json:"responses"`
	Security    *[]map[string][]string `json:"security"` // nil: the document's; empty: none
}

type parameter struct {
	Ref         string  `json:"$ref"`
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description"`
	Required    bool    `json:"required"`
	Schema      *schema `json:"schema"`
}

type requestBody struct {
	Ref         string                `json:"$ref"`
	Description string                `json:"description"`
	Required    bool                  `json:"required"`
	Content     map[string]*mediaType `json:"content"`
}

type response struct {
	Ref         string                     `json:"$ref"`
	Description string                     `json:"description"`
	Headers     map[string]json.RawMessage `json:"headers"`
	Content     map[string]*mediaType      `json:"content"`
}

type mediaType struct {
	Schema *schema `json:"schema"`
}

func (m *mediaType) schema() *schema {
	if m == nil {
		return nil
	}
	return m.Schema
}

type securityType struct {
	Type, Scheme, BearerFormat, Name, In string
}

type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 typeList           `json:"type"`
	Format               string             `json:"format"`
	Description          string             `json:"description"`
	Items                *schema            `json:"items"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	Enum                 []any              `json:"enum"`
	AllOf                []*schema          `json:"allOf"`
	OneOf                []*schema          `json:"oneOf"`
	AnyOf                []*schema          `json:"anyOf"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
}

// additional returns the schema of a map's values; additionalProperties may also be a bool.
func (s *schema) additional() *schema {
	var extra schema
	if len(s.AdditionalProperties) == 0 || json.Unmarshal(s.AdditionalProperties, &extra) != nil {
		return nil
	}
	return &extra
}

// typeList reads "type" as OpenAPI 3.0 writes it (a string) and as 3.1 may (an array).
type typeList []string

func (t *typeList) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*t = typeList{one}
		return nil
	}
	return json.Unmarshal(data, (*[]string)(t))
}

func (t typeList) is(name string) bool { return len(t) == 1 && t[0] == name }

// refable is every object that may be a $ref into components.
type refable interface {
	*parameter | *requestBody | *response
}

// resolve follows a local $ref once; swag's output has none, but a spec edited by hand might.
func resolve[T refable](v T, components map[string]T) T {
	if v == nil {
		return nil
	}
	var ref string
	switch x := any(v).(type) {
	case *parameter:
		ref = x.Ref
	case *requestBody:
		ref = x.Ref
	case *response:
		ref = x.Ref
	}
	if ref == "" {
		return v
	}
	return components[refName(ref)]
}

func (d *specDoc) tagDescription(name string) string {
	for _, t := range d.Tags {
		if t.Name == name {
			return t.Description
		}
	}
	return ""
}

// securityLabels lists the ways to authenticate, one entry per alternative, e.g.
// "BearerAuth (bearer JWT)". An empty requirement object means authentication is optional.
func (d *specDoc) securityLabels(own *[]map[string][]string) []string {
	reqs := d.Security
	if own != nil {
		reqs = *own
	}
	var out []string
	for _, req := range reqs {
		names := make([]string, 0, len(req))
		for name := range req {
			names = append(names, name+d.schemeDetail(name))
		}
		sort.Strings(names)
		if len(names) == 0 {
			names = []string{"none (optional)"}
		}
		out = append(out, strings.Join(names, " + "))
	}
	return out
}

func (d *specDoc) schemeDetail(name string) string {
	s := d.Components.SecuritySchemes[name]
	switch {
	case s == nil:
		return ""
	case s.Type == "http":
		return " (" + strings.TrimSpace(s.Scheme+" "+s.BearerFormat) + ")"
	case s.Type == "apiKey":
		return " (API key in " + s.In + " " + s.Name + ")"
	}
	return " (" + s.Type + ")"
}
