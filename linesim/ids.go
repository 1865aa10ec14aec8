package linesim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomB64(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// NewUserID returns a fresh user ID shaped like LINE's: "U" and 32 lower-case
// hex digits.
func NewUserID() string { return "U" + randomHex(16) }

// NewBotUserID returns a fresh bot user ID (the webhook "destination"),
// shaped like LINE's.
func NewBotUserID() string { return "U" + randomHex(16) }

// messageSeq makes message IDs unique within the process; it starts at a
// random 18-digit number.
var messageSeq = func() *atomic.Int64 {
	var s atomic.Int64
	r := randomBytes(6)
	off := int64(r[0])<<40 | int64(r[1])<<32 | int64(r[2])<<24 | int64(r[3])<<16 | int64(r[4])<<8 | int64(r[5])
	s.Store(500000000000000000 + off%100000000000000000)
	return &s
}()

// NewMessageID returns a fresh message ID: a decimal string of 18 digits like
// LINE's, unique within the process.
func NewMessageID() string { return strconv.FormatInt(messageSeq.Add(1), 10) }

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// order numbers deliveries and chat entries in the order they happened (see Delivered.Seq).
var order atomic.Uint64

// ulidSeq breaks ties between event IDs minted in the same millisecond.
var ulidSeq atomic.Uint64

// NewWebhookEventID returns a unique 26-character ULID-shaped ID (48-bit
// millisecond time and 80 bits of which 16 are a process counter and 64
// random), like LINE's webhookEventId.
func NewWebhookEventID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	seq := ulidSeq.Add(1)
	b[6], b[7] = byte(seq>>8), byte(seq)
	copy(b[8:], randomBytes(8))
	// Encode 128 bits as 26 base32 characters (the first carries 3 bits).
	var out [26]byte
	// Two leading zero bits pad the 128 bits to 130 = 26 * 5.
	var acc uint64
	bits, pos := 2, 0
	for _, by := range b {
		acc = acc<<8 | uint64(by)
		bits += 8
		for bits >= 5 {
			out[pos] = crockford[(acc>>(bits-5))&31]
			pos++
			bits -= 5
		}
	}
	return string(out[:pos])
}
