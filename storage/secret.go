package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretFile is the name, inside the data directory, of the generated token-signing key.
const SecretFile = "jwt-secret"

// LoadOrCreateSecret returns the token-signing key kept in the data directory, generating 32
// random bytes into a 0600 file on first use, so tokens survive restarts without
// configuration. Instances that start together on a shared data directory agree on one key:
// the file appears whole (written aside, then linked into place) or not at all.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, SecretFile)
	if key, err := readSecret(path); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	tmp, err := writeAside(dataDir, hex.EncodeToString(key)+"\n")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	// Unlike a rename, a link does not replace a key another instance put there first.
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return readSecret(path)
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// writeAside writes text to a new 0600 file in dir, synced, and returns its path.
func writeAside(dir, text string) (string, error) {
	f, err := os.CreateTemp(dir, "."+SecretFile+"-*")
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(text)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("%s must hold at least 32 hex-encoded bytes", path)
	}
	return key, nil
}
