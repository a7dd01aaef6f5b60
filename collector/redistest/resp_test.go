package redistest

import (
	"reflect"
	"testing"

	"github.com/redis-security/redis_security_exporter/collector"
)

func TestParseRESP2Table(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     collector.Result
		wantErr  bool
	}{
		{name: "simple string", in: "+OK\r\n", want: collector.Result{Value: "OK"}},
		{name: "integer", in: ":-12\r\n", want: collector.Result{Value: int64(-12)}},
		{name: "bulk with CRLF inside", in: "$4\r\na\r\nb\r\n", want: collector.Result{Value: "a\r\nb"}},
		{name: "empty bulk", in: "$0\r\n\r\n", want: collector.Result{Value: ""}},
		{name: "nil bulk", in: "$-1\r\n", want: collector.Result{}},
		{name: "nil array", in: "*-1\r\n", want: collector.Result{}},
		{name: "empty array", in: "*0\r\n", want: collector.Result{Value: []any{}}},
		{name: "nested", in: "*2\r\n*1\r\n+a\r\n$1\r\nb\r\n", want: collector.Result{Value: []any{[]any{"a"}, "b"}}},
		{name: "error reply", in: "-NOPERM no\r\n", want: collector.Result{Err: collector.ServerError("NOPERM no")}},
		// An error inside an array stays a value, as go-redis returns it.
		{name: "error element", in: "*1\r\n-ERR x\r\n", want: collector.Result{Value: []any{collector.ServerError("ERR x")}}},
		{name: "empty input", in: "", wantErr: true},
		{name: "LF only", in: "+OK\n", wantErr: true},
		{name: "empty line", in: "\r\n", wantErr: true},
		{name: "unknown type", in: "!x\r\n", wantErr: true},
		{name: "bad integer", in: ":x\r\n", wantErr: true},
		{name: "short bulk", in: "$5\r\nab\r\n", wantErr: true},
		{name: "short array", in: "*2\r\n+a\r\n", wantErr: true},
		// Lengths are checked against the input before anything is
		// allocated: these once made the fuzzer run out of memory.
		{name: "huge bulk length", in: "$25276510208\r\n", wantErr: true},
		{name: "huge array length", in: "*99999999999\r\n", wantErr: true},
		{name: "too deep", in: "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n+x\r\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRESP2([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestReadSampleMissing(t *testing.T) {
	if _, err := ReadSample("../testdata/samples", "redis-7.0", "no_such_command"); err == nil {
		t.Fatal("missing sample file: no error")
	}
	res, err := ReadSample("../testdata/samples", "redis-7.0", "config_get_bind")
	if err != nil || !reflect.DeepEqual(res.Value, []any{"bind", "127.0.0.1 -::1"}) {
		t.Fatalf("config_get_bind = %#v, %v", res, err)
	}
}

// FuzzParseRESP2 checks that malformed replies fail instead of panicking or
// allocating what the input only claims to hold.
func FuzzParseRESP2(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "-ERR x\r\n", "$-1\r\n", "$25276510208\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseRESP2(b)
	})
}
