package e2ee

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/text/unicode/norm"

	"github.com/sharethings/sharethings/api"
)

// NewKDF returns fresh parameters for a new session: PBKDF2-SHA256 with the given iterations
// and 16 random salt bytes.
func NewKDF(iterations int) api.KDF {
	salt := make([]byte, api.KDFSaltBytes)
	rand.Read(salt)
	return api.KDF{Alg: api.KDFAlgPBKDF2, Iterations: iterations, Salt: salt}
}

// Keys are what one passphrase yields for one session.
type Keys struct {
	Master         []byte
	FingerprintKey []byte
	FingerprintIV  []byte
	ContentKey     []byte
}

// DeriveKeys runs the expensive PBKDF2 once and expands the result with HKDF into the keys of
// the session. The passphrase is NFC-normalised first so that the same words typed on
// systems that compose accents differently give the same keys.
//
// It refuses what the server would refuse (api.KDF.Validate with a minimum of 1): an alg other
// than PBKDF2-SHA256, a salt that is not 16 bytes, and iterations outside 1 to
// api.MaxKDFIterations, the last so that parameters from a hostile server cannot make the
// client spin for hours.
func DeriveKeys(passphrase string, kdf api.KDF) (*Keys, error) {
	if err := kdf.Validate(1); err != nil {
		return nil, fmt.Errorf("e2ee: %w", err)
	}
	master, err := pbkdf2.Key(sha256.New, norm.NFC.String(passphrase), kdf.Salt, kdf.Iterations, keyBytes)
	if err != nil {
		return nil, fmt.Errorf("e2ee: pbkdf2: %w", err)
	}
	return &Keys{
		Master:         master,
		FingerprintKey: hkdfSHA256(master, nil, "fingerprint-key", keyBytes),
		FingerprintIV:  hkdfSHA256(master, nil, "fingerprint-iv", ivBytes),
		ContentKey:     hkdfSHA256(master, nil, "content-key", keyBytes),
	}, nil
}

// Fingerprint is the deterministic self-encryption of the session id (PROTOCOL §2). The fixed
// IV is safe only because the key encrypts this one plaintext; it lets the server compare
// fingerprints without learning anything that helps guess the passphrase.
func (k *Keys) Fingerprint(sessionID string) api.Fingerprint {
	data := newGCM(k.FingerprintKey).Seal(nil, k.FingerprintIV, []byte(sessionID), nil)
	return api.Fingerprint{IV: append([]byte(nil), k.FingerprintIV...), Data: data}
}

// Item derives the key of one shared item. The content id is the HKDF salt, so every item has
// its own key and random IVs never have to be unique across items.
func (k *Keys) Item(contentID string) *Item {
	key := hkdfSHA256(k.ContentKey, []byte(contentID), "item-key", keyBytes)
	return &Item{ContentID: contentID, key: key, aead: newGCM(key)}
}
