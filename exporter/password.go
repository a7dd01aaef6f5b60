package exporter

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadPasswordFile reads a password file; one trailing newline is dropped.
// Errors name the file, never its content.
func ReadPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("reading password file %s: %w", path, pe.Err)
		}
		return "", fmt.Errorf("reading password file %s: %w", path, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return pw, nil
}
