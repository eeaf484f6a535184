// Package web serves the browser app: the committed build in dist/, embedded so that the
// server binary needs nothing beside it. It knows nothing of the API it calls.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the built app's files.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	return http.FileServerFS(sub)
}
