package main

import (
	"bytes"
	"encoding/json"
)

// canonicalJSON re-encodes a JSON document with sorted object keys, two-space indentation, no
// HTML escaping and a trailing newline, so the committed files diff cleanly and byte equality
// means semantic equality. Numbers stay json.Number so nothing is rounded through float64.
func canonicalJSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // descriptions contain <, > and &; keep them readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil { // Encode appends the trailing newline
		return nil, err
	}
	return buf.Bytes(), nil
}
