package collector

import "github.com/redis-security/redis_security_exporter/collector/internal/weakpass"

// LoadWeakPasswords builds the set of weak password hashes for
// Options.WeakPasswords: the bundled lists when bundled is set (Redis and
// vendor defaults, and zxcvbn's most common passwords), plus the entries of
// file when it is not empty (one a line: a 64-character hex SHA-256 hash or a
// plaintext password; '#' comments). It returns the set and its number of
// distinct hashes, or a nil set when neither source is selected. Errors name
// the file, never its contents.
func LoadWeakPasswords(bundled bool, file string) (PasswordSet, int, error) {
	if !bundled && file == "" {
		return nil, 0, nil
	}
	s := weakpass.New()
	if bundled {
		s = weakpass.Bundled()
	}
	if file != "" {
		if _, err := s.ReadFile(file); err != nil {
			return nil, 0, err
		}
	}
	return s, s.Len(), nil
}
