// Package redistest starts real redis-server processes for tests and reads
// the recorded RESP2 replies in testdata. It is for tests only.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/redis-security/redis_security_exporter/collector"
)

// EncodeRESP2 encodes a reply of strings (as bulk strings), int64s, nils and
// []any arrays of them as a server sends it, for fuzz seeds and fake
// servers; it is ParseRESP2's inverse for those types.
func EncodeRESP2(v any) []byte {
	var b bytes.Buffer
	var enc func(any)
	enc = func(v any) {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(v), v)
		case int64:
			fmt.Fprintf(&b, ":%d\r\n", v)
		case nil:
			b.WriteString("*-1\r\n")
		case []any:
			fmt.Fprintf(&b, "*%d\r\n", len(v))
			for _, e := range v {
				enc(e)
			}
		default:
			panic(fmt.Sprintf("EncodeRESP2: %T", v))
		}
	}
	enc(v)
	return b.Bytes()
}

// ParseRESP2 decodes one RESP2 reply the way go-redis hands it to the
// collectors: bulk and simple strings as string, integers as int64, arrays as
// []any, nil bulk/array as nil, and an error reply as a collector.Result Err.
func ParseRESP2(b []byte) (collector.Result, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	v, err := readValue(r, 0, len(b))
	if err != nil {
		return collector.Result{}, err
	}
	if se, ok := v.(collector.ServerError); ok {
		return collector.Result{Err: se}, nil
	}
	return collector.Result{Value: v}, nil
}

// ReadSample reads testdata/<version>/<name>.resp relative to dir.
func ReadSample(dir, version, name string) (collector.Result, error) {
	b, err := os.ReadFile(fmt.Sprintf("%s/%s/%s.resp", dir, version, name))
	if err != nil {
		return collector.Result{}, err
	}
	return ParseRESP2(b)
}

const maxDepth = 16

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errors.New("RESP line does not end in CRLF")
	}
	return line[:len(line)-2], nil
}

// readValue reads one value from r, which holds at most limit bytes: a
// length beyond that is malformed, and must not be allocated.
func readValue(r *bufio.Reader, depth, limit int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("RESP nesting too deep")
	}
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return collector.ServerError(line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		if n > limit {
			return nil, errors.New("RESP bulk length exceeds the input")
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		if n > limit {
			return nil, errors.New("RESP array length exceeds the input")
		}
		arr := make([]any, n)
		for i := range arr {
			if arr[i], err = readValue(r, depth+1, limit); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unknown RESP type %q", line[0])
}
