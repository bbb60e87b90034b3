// A stand-in for the original Go sidecar's one exchange, for the bench.
//
// The original's source cannot be fetched here without the network, so
// this is a minimal equivalent written for the bench, not its code: the
// same environment variables, the same form (url.Values, Go's sorted
// keys), the same three headers, Go's default net/http client
// (http.DefaultClient: no timeout, TLS 1.2 and 1.3, the system roots,
// which SSL_CERT_FILE points at) and encoding/json. It exchanges once and
// writes the token file the way the original does (os.WriteFile, in
// place), then exits: the cost of the original's first exchange.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
)

type answer struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

func exchange() error {
	sa, err := os.ReadFile(os.Getenv("SA_TOKEN_PATH"))
	if err != nil {
		return err
	}
	form := url.Values{}
	form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
	form.Set("subject_token", string(sa)) // newline and all, as the original
	form.Set("subject_token_type", "urn:ietf:params:oauth:token-type:id_token")
	if aud := os.Getenv("AUDIENCE"); aud != "" {
		form.Set("audience", aud)
	}
	req, err := http.NewRequest("POST", os.Getenv("EXCHANGE_URL"),
		bytes.NewBufferString(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("exchange failed: %s", resp.Status)
	}
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return err
	}
	return os.WriteFile(os.Getenv("OUTPUT_TOKEN_PATH"), []byte(a.AccessToken), 0o600)
}

func main() {
	if err := exchange(); err != nil {
		fmt.Fprintln(os.Stderr, "gosidecar:", err)
		os.Exit(1)
	}
}
