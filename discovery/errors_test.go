package discovery

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// replyErr is an error reply as go-redis returns it (a redis.Error).
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

// TestCommandError: error replies of the versions discovery meets are
// classified from their text, and the error says what happened with the
// code only, never the text (which can name the user).
func TestCommandError(t *testing.T) {
	tests := []struct {
		reply string
		kind  error
		text  string
	}{
		{"NOPERM this user has no permissions to run the 'cluster|shards' command", ErrDenied, // 7.0
			"discovery: CLUSTER SHARDS: permission denied (NOPERM)"},
		{"NOPERM User sd-canary-user has no permissions to run the 'cluster|shards' command", ErrDenied, // 7.2+, Valkey
			"discovery: CLUSTER SHARDS: permission denied (NOPERM)"},
		{"NOAUTH Authentication required.", ErrAuth, "discovery: CLUSTER SHARDS: not authenticated (NOAUTH)"},
		{"WRONGPASS invalid username-password pair or user is disabled.", ErrAuth, ""},
		{"ERR This instance has cluster support disabled", ErrClusterDisabled,
			"discovery: CLUSTER SHARDS: cluster support is disabled on the seed (ERR)"},
		{"ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.", ErrUnknownCommand, ""},                                  // 7.0+
		{"ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP.", ErrUnknownCommand, ""}, // 6.x
		{"ERR Unknown sentinel subcommand 'replicas'", ErrUnknownCommand, ""},                                          // Sentinel 4.0
		{"ERR unknown command 'CLUSTER', with args beginning with: 'SHARDS' ", ErrUnknownCommand,
			"discovery: CLUSTER SHARDS: unknown command (ERR)"},
		{"ERR unknown command `SENTINEL`, with args beginning with: `MASTERS`, ", ErrUnknownCommand, ""}, // 6.0
		{"LOADING Redis is loading the dataset in memory", nil, "discovery: CLUSTER SHARDS: the seed replied with an error (LOADING)"},
		{"ERR No such master with that name", nil, ""},
		{"no code at all sd-canary-user", nil, "discovery: CLUSTER SHARDS: the seed replied with an error"},
		{"", nil, ""},
	}
	for _, tt := range tests {
		err := commandError("CLUSTER SHARDS", replyErr(tt.reply))
		var re *ReplyError
		if !errors.As(err, &re) {
			t.Fatalf("%q: %T, want *ReplyError", tt.reply, err)
		}
		if re.Kind != tt.kind || tt.kind != nil && !errors.Is(err, tt.kind) {
			t.Errorf("%q: kind %v, want %v", tt.reply, re.Kind, tt.kind)
		}
		if tt.text != "" && err.Error() != tt.text {
			t.Errorf("%q: text %q, want %q", tt.reply, err, tt.text)
		}
		if strings.Contains(err.Error(), "sd-canary-user") {
			t.Errorf("%q: the error quotes the reply: %q", tt.reply, err)
		}
	}
	// Not an error reply: kept, so that the caller sees a network error.
	if err := commandError("SENTINEL MASTERS", context.DeadlineExceeded); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context error lost: %v", err)
	}
}
