package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// bearerScheme is the security definition name the annotations use
// (@securityDefinitions.apikey BearerAuth).
const bearerScheme = "BearerAuth"

// binaryMediaTypes are bodies that carry raw bytes: chunk downloads and tus PATCH uploads.
var binaryMediaTypes = map[string]bool{
	"application/octet-stream":        true,
	"application/offset+octet-stream": true,
}

// convert turns swag's Swagger 2.0 into the OpenAPI 3.0 document the server publishes,
// repairs what swag v1 cannot express, and refuses to return anything that does not validate.
func convert(swagger2 []byte) ([]byte, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(swagger2, &doc2); err != nil {
		return nil, fmt.Errorf("read swagger 2.0: %w", err)
	}
	foldBasePath(&doc2)
	doc3, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert to openapi 3: %w", err)
	}
	useBearerJWT(doc3)
	markBinaryBodies(doc3)
	useProblemMediaType(doc3)
	// The server is self-hosted under any name; a relative URL means "the origin that served
	// this document", which is what generated clients and the docs page should call.
	doc3.Servers = openapi3.Servers{{URL: "/"}}

	raw, err := json.Marshal(doc3)
	if err != nil {
		return nil, err
	}
	out, err := canonicalJSON(raw)
	if err != nil {
		return nil, err
	}
	// Validate the bytes we are about to write, read back through the loader, rather than
	// the in-memory document: that also resolves every $ref as a client would.
	if _, err := loadSpec(out); err != nil {
		return nil, fmt.Errorf("generated openapi.json: %w", err)
	}
	return out, nil
}

// loadSpec parses and validates an OpenAPI 3 document.
func loadSpec(data []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return doc, nil
}

// foldBasePath moves a swag @BasePath into the paths themselves. ToV3 would otherwise turn it
// into the server URL, and the single relative server "/" would then address the wrong paths.
// Host and schemes go too: an absolute server URL is wrong for a self-hosted server.
func foldBasePath(doc *openapi2.T) {
	if base := strings.TrimRight(doc.BasePath, "/"); base != "" {
		paths := make(map[string]*openapi2.PathItem, len(doc.Paths))
		for p, item := range doc.Paths {
			paths[base+p] = item
		}
		doc.Paths = paths
	}
	doc.BasePath, doc.Host, doc.Schemes = "", "", nil
}

// useBearerJWT replaces the apiKey-in-Authorization scheme, the only form swag v1 can emit,
// with HTTP bearer: generated clients then add the "Bearer " prefix themselves.
func useBearerJWT(doc *openapi3.T) {
	ref, ok := doc.Components.SecuritySchemes[bearerScheme]
	if !ok || ref == nil || ref.Value == nil {
		return
	}
	scheme := openapi3.NewJWTSecurityScheme()
	scheme.Description = ref.Value.Description
	doc.Components.SecuritySchemes[bearerScheme] = &openapi3.SecuritySchemeRef{Value: scheme}
}

// markBinaryBodies restores `format: binary` on raw-byte bodies. swag keeps a body's format
// on the 2.0 parameter, where ToV3 drops it; without it generators type the body as a text
// string and may re-encode the bytes.
func markBinaryBodies(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				markBinary(op.RequestBody.Value.Content)
			}
			if op.Responses == nil {
				continue
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					markBinary(resp.Value.Content)
				}
			}
		}
	}
}

func markBinary(content openapi3.Content) {
	for name, media := range content {
		if binaryMediaTypes[name] && media != nil {
			media.Schema = binarySchema(media.Schema)
		}
	}
}

// binarySchema returns a string schema with format binary. It copies rather than edits: ToV3
// shares one schema between all media types of a body, and a JSON sibling must stay as it is.
// References and non-string schemas are left alone; they were declared on purpose.
func binarySchema(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref == nil {
		return openapi3.NewSchemaRef("", openapi3.NewStringSchema().WithFormat("binary"))
	}
	if ref.Ref != "" || ref.Value == nil || !ref.Value.Type.Is("string") {
		return ref
	}
	s := *ref.Value
	s.Format = "binary"
	return openapi3.NewSchemaRef("", &s)
}

// problemSchemaRef is the schema of every error body.
const problemSchemaRef = "#/components/schemas/Problem"

// useProblemMediaType documents error responses as application/problem+json, the type the
// server sends. swag gives every response all of an operation's @Produce types, so an error
// of a download would otherwise claim to be octet-stream.
func useProblemMediaType(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				continue
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				if schema := problemSchema(resp.Value.Content); schema != nil {
					resp.Value.Content = openapi3.Content{"application/problem+json": openapi3.NewMediaType().WithSchemaRef(schema)}
				}
			}
		}
	}
}

func problemSchema(content openapi3.Content) *openapi3.SchemaRef {
	for _, media := range content {
		if media != nil && media.Schema != nil && media.Schema.Ref == problemSchemaRef {
			return media.Schema
		}
	}
	return nil
}
