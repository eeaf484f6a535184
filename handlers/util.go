package handlers

import (
	"errors"
	"strconv"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// parseUint parses a non-negative decimal without sign.
func parseUint(s string) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, errors.New("not an unsigned number")
	}
	return strconv.ParseInt(s, 10, 64)
}
