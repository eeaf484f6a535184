// Package e2ee is the client-side cryptography of ShareThings protocol v1 (PROTOCOL §2): key
// derivation from the passphrase, the passphrase fingerprint, and the sealing and opening of
// item metadata and chunks. The CLI and the tests share it so that both speak exactly the
// bytes the browser speaks.
//
// It never talks to the network and never sees a server: callers move the sealed bytes. It
// imports only the standard library, golang.org/x/text for NFC, and package api for the wire
// types and the limits the protocol fixes.
package e2ee

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/sharethings/sharethings/api"
)

// Prefix starts every HKDF info and every AAD, so that no key or ciphertext of this protocol
// version can be mistaken for one of another protocol or version.
const Prefix = "sharethings/v1|"

// ErrDecrypt means a wrong key or tampered data. The two cannot be told apart by design, so
// callers get one error for both; every Open* failure wraps it, including authentic metadata
// that breaks the protocol's rules, so that "cannot read this item" is one check.
var ErrDecrypt = errors.New("e2ee: decryption failed")

// errAuth is the detail of a failed GCM open: the only two causes the receiver can name.
const errAuth = "wrong passphrase or tampered data"

// Lengths the protocol fixes: AES-256 keys and GCM's standard 12-byte nonce.
const (
	keyBytes = 32
	ivBytes  = api.FingerprintIVLen
)

// hkdfSHA256 derives length bytes. It cannot fail for the lengths this package asks for,
// so a failure is a programming error and panics rather than burdening every caller.
func hkdfSHA256(secret, salt []byte, info string, length int) []byte {
	out, err := hkdf.Key(sha256.New, secret, salt, Prefix+info, length)
	if err != nil {
		panic(fmt.Sprintf("e2ee: hkdf: %v", err))
	}
	return out
}

// newGCM builds AES-256-GCM with the standard 12-byte nonce and 16-byte tag the protocol
// uses. Keys here always come from HKDF and are 32 bytes, so an error is a programming error.
func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("e2ee: aes: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("e2ee: gcm: %v", err))
	}
	return aead
}

// readIV fills iv from r, or from crypto/rand when r is nil. A caller-supplied reader exists
// only so tests can replay the IVs of the vectors; it may run dry, crypto/rand cannot.
func readIV(r io.Reader, iv []byte) error {
	if r == nil {
		rand.Read(iv)
		return nil
	}
	if _, err := io.ReadFull(r, iv); err != nil {
		return fmt.Errorf("e2ee: reading iv: %w", err)
	}
	return nil
}
