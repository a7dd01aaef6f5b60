package collector

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// TestRepliesRelease: released replies give their parsed INFO back emptied
// (no field or module line of the reply stays referenced from the pool) and
// answer Info with an error from then on; the facts keep a run id of their
// own, not a substring of the reply; releasing twice is harmless; an INFO
// of more fields than the pool keeps is left to the garbage collector.
func TestRepliesRelease(t *testing.T) {
	reply := "# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789abcdef0123456789abcdef01234567\r\nredis_mode:standalone\r\n" +
		"# Modules\r\nmodule:name=search,ver=1\r\n"
	p := NewPlan(Facts{})
	p.UseState(NewState())
	r, err := NewReplies(p, []Call{infoCall(EncodingModern)}, []Result{{Value: reply}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := r.Info()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := in.Get("redis_version"); !ok || v != "7.0.15" {
		t.Fatalf("redis_version %q, %v", v, ok)
	}
	if ms, _ := in.Modules(); len(ms) != 1 {
		t.Fatalf("modules %v", ms)
	}
	within := func(s string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(reply)))
		return p >= start && p < start+uintptr(len(reply))
	}
	srv := r.Facts().Server
	if srv.RunID != "0123456789abcdef0123456789abcdef01234567" || srv.Mode != "standalone" {
		t.Fatalf("facts %+v", srv)
	}
	if within(srv.RunID) || within(srv.Mode) {
		t.Error("the facts keep a substring of the INFO reply")
	}
	r.Release()
	if _, ok := in.Get("redis_version"); ok || in.HasSection("server") || in.Size() != 0 {
		t.Error("a released INFO keeps the reply's fields")
	}
	if ms, ok := in.Modules(); len(ms) != 0 || ok {
		t.Errorf("a released INFO keeps the reply's modules: %v", ms)
	}
	if _, err := r.Info(); err == nil {
		t.Error("Info after Release: no error")
	}
	r.Release()

	var b strings.Builder
	b.WriteString("redis_version:7.0.15\r\n")
	for i := 0; i <= maxPooledInfoFields; i++ {
		fmt.Fprintf(&b, "field%d:1\r\n", i)
	}
	r, err = NewReplies(NewPlan(Facts{}), []Call{infoCall(EncodingModern)}, []Result{{Value: b.String()}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ = r.Info()
	r.Release()
	if in.Size() <= maxPooledInfoFields {
		t.Errorf("an INFO of %d fields was emptied for the pool, which keeps at most %d", in.Size(), maxPooledInfoFields)
	}
}
