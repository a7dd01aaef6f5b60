package exporter

import "testing"

// TestAuthReply: an AUTH error shows the server's message only when it
// cannot hold the credentials the exporter sent.
func TestAuthReply(t *testing.T) {
	for _, tc := range []struct {
		reply, user, password, want string
	}{
		{"WRONGPASS invalid username-password pair or user is disabled.", "exporter", "s3cret", "WRONGPASS invalid username-password pair or user is disabled."},
		{"ERR max number of clients reached", "", "s3cret", "ERR max number of clients reached"},
		// Redis 7 and 6 echo the arguments of an unknown command.
		{"ERR unknown command 'AUTH', with args beginning with: 'exporter' 's3cret' ", "exporter", "s3cret", "ERR unknown command AUTH (renamed or disabled on the server)"},
		{"ERR unknown command `AUTH`, with args beginning with: `s3cret`, ", "", "s3cret", "ERR unknown command AUTH (renamed or disabled on the server)"},
		// Anything else that quotes, or holds the user or the password.
		{"ERR wrong 's3cret'", "", "s3cret", "ERR"},
		{"ERR wrong `x`", "", "s3cret", "ERR"},
		{"ERR saw s3cret here", "", "s3cret", "ERR"},
		{"NOPERM user exporter may not", "exporter", "s3cret", "NOPERM"},
		{"DENIED Redis is running in protected mode because protected mode is enabled", "", "s3cret", "DENIED Redis is running in protected mode because protected mode is enabled"},
	} {
		if got := authReply(tc.reply, tc.user, tc.password); got != tc.want {
			t.Errorf("authReply(%q) = %q, want %q", tc.reply, got, tc.want)
		}
	}
}
