package main

import (
	"reflect"
	"testing"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
		err  bool
	}{
		{in: "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n",
			want: [][]string{{"INFO", "server"}, {"CLIENT", "ID"}}},
		{in: "*1\r\n$4\r\na\r\nb\r\n", want: [][]string{{"a\r\nb"}}}, // binary safe
		{in: "*1\r\n$3\r\nab\r\n", err: true},                        // short bulk string
		{in: "*1\r\n+OK\r\n", err: true},                             // not a bulk string
		{in: "PING\r\n", err: true},                                  // inline command
		{in: "", want: nil},                                          // nothing sent
		{in: "*1\r\n$4\r\nPING\r\n*1\r\n", err: true},                // cut off
	} {
		got, err := parseRequest([]byte(tc.in))
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error, got %q", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(tc.want) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
