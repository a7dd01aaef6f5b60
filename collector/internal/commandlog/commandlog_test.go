package commandlog

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	entry := func(fields ...any) []any { return fields }
	tests := []struct {
		name    string
		reply   any
		want    []Entry
		wantErr string
	}{
		{name: "empty", reply: []any{}, want: []Entry{}},
		{name: "one slow entry", reply: []any{
			entry(int64(7), int64(1765060000), int64(12), []any{"AUTH", "(redacted)"}, "127.0.0.1:5000", ""),
		}, want: []Entry{{ID: 7, Timestamp: 1765060000, Value: 12}}},
		{name: "newest first", reply: []any{
			entry(int64(2), int64(20), int64(2048), []any{"SET", "k", "v"}, "[::1]:1", "app"),
			entry(int64(1), int64(10), int64(4096), []any{"SET", "k", "w"}, "/tmp/s:0", "app"),
		}, want: []Entry{{ID: 2, Timestamp: 20, Value: 2048}, {ID: 1, Timestamp: 10, Value: 4096}}},
		{name: "shorter entry of an older shape", reply: []any{entry(int64(0), int64(1), int64(2))},
			want: []Entry{{ID: 0, Timestamp: 1, Value: 2}}},
		{name: "not an array", reply: "ERR", wantErr: "unexpected reply type string"},
		{name: "entry not an array", reply: []any{"x"}, wantErr: "entry 0 is string"},
		{name: "too few fields", reply: []any{entry(int64(1), int64(2))}, wantErr: "entry 0 has 2 fields"},
		{name: "id not an integer", reply: []any{entry("secret-looking", int64(2), int64(3))}, wantErr: "entry 0: field 0 is string"},
		{name: "negative value", reply: []any{entry(int64(1), int64(2), int64(-3))}, wantErr: "entry 0: field 2 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.reply)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-looking") {
					t.Errorf("error repeats a string of the reply: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseLen(t *testing.T) {
	tests := []struct {
		reply   any
		want    int64
		wantErr bool
	}{
		{reply: int64(0), want: 0},
		{reply: int64(128), want: 128},
		{reply: int64(-1), wantErr: true},
		{reply: "3", wantErr: true},
		{reply: nil, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLen(tt.reply)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLen(%#v) = %d, %v; want %d, error %v", tt.reply, got, err, tt.want, tt.wantErr)
		}
	}
}
