package collector

import "testing"

// TestRepliesRelease: released replies give their parsed INFO back emptied
// (no reference to the reply stays in the pool) and answer Info with an
// error from then on; releasing twice is harmless.
func TestRepliesRelease(t *testing.T) {
	r, err := NewReplies(NewPlan(Facts{}), []Call{infoCall(EncodingModern)},
		[]Result{{Value: "# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789abcdef\r\n"}})
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
	if r.Facts().Server.RunID != "0123456789abcdef" {
		t.Fatalf("facts %+v", r.Facts())
	}
	r.Release()
	if _, ok := in.Get("redis_version"); ok || in.HasSection("server") {
		t.Error("a released INFO keeps the reply's fields")
	}
	if _, err := r.Info(); err == nil {
		t.Error("Info after Release: no error")
	}
	if r.Facts().Server.RunID != "0123456789abcdef" {
		t.Error("Release changed the facts")
	}
	r.Release()
}
