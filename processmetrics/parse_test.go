package processmetrics

import "testing"

func TestParseStat(t *testing.T) {
	// A stat line recorded from a cat process, and variations of the
	// command name, which may hold spaces and parentheses.
	const tail = ` R 32688 32688 24495 0 -1 4194304 98 0 0 0 7 5 0 0 20 0 1 0 2829546 3133440 407 18446744073709551615 94208643682304 0 0 0 17 1 0 0 0 0 0` + "\n"
	want := procStat{utime: 7, stime: 5, starttime: 2829546, vsize: 3133440, rss: 407}
	for _, tc := range []struct {
		name, data string
		want       procStat
		wantErr    bool
	}{
		{name: "plain", data: "32690 (cat)" + tail, want: want},
		{name: "spaces and parentheses in the name", data: "32690 (a) b (c) d)" + tail, want: want},
		{name: "no trailing newline", data: "1 (x) R 0 0 0 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 2829546 3133440 407", want: want},
		{name: "negative rss", data: "1 (x) R 0 0 0 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 2829546 3133440 -3", want: procStat{utime: 7, stime: 5, starttime: 2829546, vsize: 3133440, rss: -3}},
		{name: "no parentheses", data: "32690 cat" + tail, wantErr: true},
		{name: "too few fields", data: "1 (x) R 0 0 0 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 2829546 3133440\n", wantErr: true},
		{name: "not a number", data: "1 (x) R 0 0 0 0 -1 0 0 0 0 0 7x 5 0 0 20 0 1 0 2829546 3133440 407", wantErr: true},
		{name: "overflow", data: "1 (x) R 0 0 0 0 -1 0 0 0 0 0 18446744073709551616 5 0 0 20 0 1 0 2829546 3133440 407", wantErr: true},
		{name: "empty", data: "", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseBootTime(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       uint64
		wantErr    bool
	}{
		{name: "recorded", data: "cpu  286470 53909 124279 5178729 3110 0 2879 0 0 0\ncpu0 1 2 3\nintr 11684402 0 0\nctxt 2\nbtime 1764995501\nprocesses 3\n", want: 1764995501},
		{name: "last line without newline", data: "cpu 1 2\nbtime 17", want: 17},
		{name: "missing", data: "cpu 1 2\nprocesses 3\n", wantErr: true},
		{name: "not a number", data: "btime soon\n", wantErr: true},
		{name: "a prefix of another name is not btime", data: "btimex 5\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBootTime([]byte(tc.data))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseNetstat(t *testing.T) {
	const tcp = "TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 0 1\n"
	for _, tc := range []struct {
		name, data string
		in, out    float64
		wantErr    bool
	}{
		{name: "recorded", data: tcp + "IpExt: InNoRoutes InTruncatedPkts InOctets OutOctets InMcastOctets\nIpExt: 0 0 811507475 525589000 0\nMPTcpExt: MPCapableSYNRX\nMPTcpExt: 0\n", in: 811507475, out: 525589000},
		{name: "no IpExt: zero, as procfs", data: tcp},
		{name: "IpExt without the octets", data: "IpExt: InNoRoutes\nIpExt: 4\n"},
		{name: "large counters stay exact to float64", data: "IpExt: InOctets OutOctets\nIpExt: 18446744073709551615 9007199254740993\n", in: 18446744073709551615, out: 9007199254740993},
		{name: "blank lines", data: "\n" + tcp + "\nIpExt: InOctets OutOctets\nIpExt: 1 2\n", in: 1, out: 2},
		{name: "names and values differ in length", data: "IpExt: InOctets OutOctets\nIpExt: 1\n", wantErr: true},
		{name: "values line missing", data: "IpExt: InOctets OutOctets\n", wantErr: true},
		{name: "values line of another protocol", data: "IpExt: InOctets OutOctets\nTcpExt: 1 2\n", wantErr: true},
		{name: "not a number", data: "IpExt: InOctets OutOctets\nIpExt: 1 x\n", wantErr: true},
		{name: "empty", data: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out, err := parseNetstat([]byte(tc.data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if in != tc.in || out != tc.out {
				t.Errorf("got %v, %v; want %v, %v", in, out, tc.in, tc.out)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("32690 (cat) R 32688 32688 24495 0 -1 4194304 98 0 0 0 7 5 0 0 20 0 1 0 2829546 3133440 407 0\n"))
	f.Add([]byte("cpu 1\nbtime 5\n"))
	f.Add([]byte("IpExt: InOctets OutOctets\nIpExt: 1 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Kernel output, not an attacker's: the point is no panic on any
		// input, whatever a future kernel writes.
		_, _ = parseStat(data)
		_, _ = parseBootTime(data)
		_, _, _ = parseNetstat(data)
	})
}
