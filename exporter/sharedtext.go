package exporter

import (
	"bytes"
	"hash/maphash"

	"github.com/redis-security/redis_security_exporter/internal/weakset"
)

// A pooled /probe target keeps the encoded text of each metric family and
// the compressed chunks of runs of them, about 30 KiB, and most of it is
// byte for byte the text of the other targets of the same version and
// configuration (the settings, the command availability, the CVEs, the
// checks' verdicts). The targets share one copy of equal texts and chunks:
// a text lives as long as some target's family or chunk holds it.

// sharedText is an encoded text or compressed chunk some targets share. Its
// bytes are never modified.
type sharedText struct{ b []byte }

var (
	sharedTexts    weakset.Set[sharedText]
	sharedTextSeed = maphash.MakeSeed()
)

// shareText returns the shared copy of b (which the caller may reuse).
func shareText(b []byte) *sharedText {
	return sharedTexts.Share(maphash.Bytes(sharedTextSeed, b),
		func(t *sharedText) bool { return bytes.Equal(t.b, b) },
		func() *sharedText { return &sharedText{b: bytes.Clone(b)} })
}
