package request

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts identity documents and package files at rest with AES-256-GCM. Each sealed value is
// nonce ‖ ciphertext, and is bound to the record it belongs to (the additional data), so a sealed
// document copied into another record does not open. The key ID (a digest of the key) is stored with
// each value; a value sealed with another key does not open.
type Sealer struct {
	aead cipher.AEAD
	id   string
}

// ErrWrongKey is returned for a value sealed with another key.
var ErrWrongKey = errors.New("request: sealed with another DOCUMENT_KEY")

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("DOCUMENT_KEY must be 32 bytes (base64: 44 characters), got %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("privacybot document key\x00"), key...))
	return &Sealer{aead: aead, id: hex.EncodeToString(sum[:4])}, nil
}

// ParseKey decodes DOCUMENT_KEY (standard or URL-safe base64 of 32 bytes).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("DOCUMENT_KEY must decode to 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("DOCUMENT_KEY is not base64 (make one with: openssl rand -base64 32)")
}

// LocalKey reads the key file in dir, or creates one (local mode only: in production the key comes
// from DOCUMENT_KEY, kept apart from the data it protects). created says a new key was written.
func LocalKey(dir string) (key []byte, file string, created bool, err error) {
	file = filepath.Join(dir, "document.key")
	if b, err := os.ReadFile(file); err == nil {
		key, err := ParseKey(string(b))
		return key, file, false, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, file, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, file, false, err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, file, false, err
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return key, file, err == nil, err
}

// KeyID names the key (stored with each sealed value).
func (s *Sealer) KeyID() string { return s.id }

// Seal encrypts plain for the record named by aad.
func (s *Sealer) Seal(plain []byte, aad string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(aad)), nil
}

// Open decrypts a value sealed for the record aad with the key keyID.
func (s *Sealer) Open(sealed []byte, keyID, aad string) ([]byte, error) {
	if keyID != s.id {
		return nil, ErrWrongKey
	}
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("request: sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
}
