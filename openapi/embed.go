// Package openapi holds the ShareThings API description and the code that serves it.
//
// swagger.json (Swagger 2.0, written by swag from the annotations in cmd/sharethings,
// handlers and api) and openapi.json (the OpenAPI 3.0 document converted from it) are
// generated: never edit them by hand. `make openapi` regenerates both, and the tests of the
// generator module in gen/ fail when the committed files are stale. The generator is a
// separate module so that swag and kin-openapi never become dependencies of the server.
//
// The rest is hand-written: the embedded spec below and DocsPage, a self-contained HTML
// reference rendered from it. This package imports only the standard library.
package openapi

import _ "embed"

// Spec is the OpenAPI 3.0 document, served as /openapi.json.
//
//go:embed openapi.json
var Spec []byte
