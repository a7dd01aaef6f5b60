package exporter

import (
	"strings"
	"testing"
)

// denied is Redis 7.0's protected-mode refusal, as the server sends it.
const denied = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

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
		// Quoted stretches are blanked out; the credentials themselves, or
		// an unpaired quote, leave only the code.
		{"ERR wrong 's3cret'", "", "s3cret", "ERR wrong '…'"},
		{"ERR wrong `x` and \"y\"", "", "s3cret", "ERR wrong '…' and '…'"},
		{"ERR cut 's3cr", "", "s3cret", "ERR"},
		{"ERR it's", "", "s3cret", "ERR"},
		{"ERR saw s3cret here", "", "s3cret", "ERR"},
		{"NOPERM user exporter may not", "exporter", "s3cret", "NOPERM"},
		{denied, "", "s3cret", strings.NewReplacer("'CONFIG SET protected-mode no'", "'…'", "'no'", "'…'", "'--protected-mode no'", "'…'").Replace(denied)},
	} {
		if got := authReply(tc.reply, tc.user, tc.password); got != tc.want {
			t.Errorf("authReply(%q) = %q, want %q", tc.reply, got, tc.want)
		}
	}
}
