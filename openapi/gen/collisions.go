package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// checkNameCollisions fails when two different Go types would get the same schema name.
//
// With UseStructNames swag names a definition after the bare type ("Link" rather than
// "api.Link") and, when two referenced types share that name, silently lets one overwrite
// the other, so a field can end up pointing at the wrong schema. qualified is swag's output
// for the same sources without UseStructNames, where such types still have distinct names;
// stripping the package the way UseStructNames does shows which ones would clash. Only types
// the spec actually references are considered, so an unrelated type of the same name (say
// the server's own Config) is no problem.
func checkNameCollisions(qualified []byte) error {
	var doc struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(qualified, &doc); err != nil {
		return err
	}
	byShort := map[string][]string{}
	for name := range doc.Definitions {
		short := name[strings.LastIndex(name, ".")+1:]
		byShort[short] = append(byShort[short], name)
	}
	var clashes []string
	for short, names := range byShort {
		if len(names) > 1 {
			slices.Sort(names)
			clashes = append(clashes, fmt.Sprintf("%s (%s)", short, strings.Join(names, ", ")))
		}
	}
	if len(clashes) == 0 {
		return nil
	}
	slices.Sort(clashes)
	return fmt.Errorf("types share a schema name; add `//@name OtherName` after one of them: %s",
		strings.Join(clashes, "; "))
}
