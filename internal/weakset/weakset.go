// Package weakset shares immutable values between the targets that hold
// equal ones: a pooled /probe target's caches (a COMMAND INFO parse, the
// encoded text of a metric family) are mostly byte for byte those of the
// other targets of the same version and configuration. A Set keeps weak
// pointers: a value lives as long as some target holds it, and its entry
// goes when it is collected.
package weakset

import (
	"runtime"
	"slices"
	"sync"
	"weak"
)

// Set is a set of shared values, keyed by a hash the caller computes and
// compared in full, so a collision costs a comparison, never a wrong value.
// The zero Set is ready to use; it must not be copied.
type Set[T any] struct {
	mu     sync.Mutex
	byHash map[uint64][]weak.Pointer[T]
}

// Share returns the live value of hash h for which equal holds, or else
// the value build returns, which is shared from then on. Values must never
// be modified once shared.
func (s *Set[T]) Share(h uint64, equal func(*T) bool, build func() *T) *T {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, wp := range s.byHash[h] {
		if v := wp.Value(); v != nil && equal(v) {
			return v
		}
	}
	if s.byHash == nil {
		s.byHash = map[uint64][]weak.Pointer[T]{}
	}
	v := build()
	s.byHash[h] = append(s.byHash[h], weak.Make(v))
	runtime.AddCleanup(v, s.forget, h)
	return v
}

// forget drops the collected values of hash h.
func (s *Set[T]) forget(h uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := slices.DeleteFunc(s.byHash[h], func(wp weak.Pointer[T]) bool { return wp.Value() == nil })
	if len(live) == 0 {
		delete(s.byHash, h)
		return
	}
	s.byHash[h] = live
}

// Len is the number of values in the set, collected ones whose entry is
// not yet removed included (for tests).
func (s *Set[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, wps := range s.byHash {
		n += len(wps)
	}
	return n
}
