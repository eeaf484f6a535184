// Command gen regenerates the ShareThings API description from the swag annotations in
// cmd/sharethings, handlers and api: swag writes Swagger 2.0 (openapi/swagger.json), which is
// then converted to the OpenAPI 3.0 document the server embeds (openapi/openapi.json).
//
// It lives in its own module so that swag and kin-openapi never become dependencies of the
// server. Run it with `make openapi`, or `go run .` from this directory.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", "../..", "repository root (the directory holding cmd/, handlers/, api/ and openapi/)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "openapi gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	swagger2, openapi3, err := Generate(root)
	if err != nil {
		return err
	}
	// The server module only ever sees these two files; write them last, after everything
	// has been generated and validated, so a failure never leaves a half-updated pair.
	dir := filepath.Join(root, "openapi")
	if err := os.WriteFile(filepath.Join(dir, SwaggerFile), swagger2, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, OpenAPIFile), openapi3, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(dir, SwaggerFile), filepath.Join(dir, OpenAPIFile))
	return nil
}
