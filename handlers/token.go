package handlers

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sharethings/sharethings/api"
)

// Claims are what a session token asserts: one client in one generation of one session.
type Claims struct {
	SessionID  string `json:"sid"`
	Name       string `json:"name"`
	Generation int64  `json:"gen"`
	jwt.RegisteredClaims
}

// ClientID is the token's subject.
func (c *Claims) ClientID() string { return c.Subject }

// Validate runs after the standard checks and refuses tokens missing our claims.
func (c *Claims) Validate() error {
	if c.SessionID == "" || c.Subject == "" || c.Generation <= 0 {
		return errors.New("token lacks sid, sub or gen")
	}
	return nil
}

// Tokens issues and verifies HS256 session tokens.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    api.Clock
	parser *jwt.Parser
}

// NewTokens returns a token issuer signing with secret; now is the clock for iat, exp and
// verification.
func NewTokens(secret []byte, ttl time.Duration, now api.Clock) *Tokens {
	return &Tokens{
		secret: secret,
		ttl:    ttl,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Issue signs a token for a client of a session.
func (t *Tokens) Issue(s *api.Session, c *api.Client) (token string, expiresAt time.Time, err error) {
	now := t.now().UTC().Truncate(time.Second)
	expiresAt = now.Add(t.ttl)
	claims := &Claims{
		SessionID:  s.ID,
		Name:       c.Name,
		Generation: s.Generation,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.ID,
			ID:        randomHex(16), // tokens issued in the same second still differ
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	return token, expiresAt, err
}

// Verify checks signature, algorithm and expiry. Errors: ETOKENEXPIRED, EUNAUTHORIZED.
func (t *Tokens) Verify(raw string) (*Claims, error) {
	claims := &Claims{}
	_, err := t.parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, api.Errorf(api.ETOKENEXPIRED, "token expired: refresh it or join again")
	case err != nil:
		return nil, api.Errorf(api.EUNAUTHORIZED, "invalid token")
	}
	return claims, nil
}
