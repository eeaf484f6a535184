package handlers

import (
	"encoding/json"
	"net/http"
)

// problemRender writes a problem body with the problem+json media type; gin's JSON renderer
// would force application/json.
type problemRender struct{ body map[string]any }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return json.NewEncoder(w).Encode(r.body)
}

func (problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("Cache-Control", "no-store")
}
