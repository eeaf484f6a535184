package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrentCreatesOneWins: creators racing for one name with their own kdf salts get one
// 201; every other gets 409 session_exists and can refetch the winner's parameters.
func TestConcurrentCreatesOneWins(t *testing.T) {
	v := loadVectors(t)
	cfg, clk := testConfig(t)
	srv := startServer(t, cfg, clk)
	const racers = 12
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			salt := make([]byte, 16)
			salt[0] = byte(i)
			kdf, _ := json.Marshal(map[string]any{"alg": "PBKDF2-SHA256", "iterations": 1000, "salt": base64.StdEncoding.EncodeToString(salt)})
			r := srv.join(v[0].SessionID, v[0].Fingerprint, kdf)
			statuses[i] = r.status
			if r.status == 409 && r.json(t)["code"] != "session_exists" {
				t.Errorf("409 with code %v", r.json(t)["code"])
			}
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != racers-1 {
		t.Fatalf("statuses %v: want one 201 and %d × 409", count, racers-1)
	}
}

func TestServesTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	cfg, clk := testConfig(t, "--tls-cert", certFile, "--tls-key", keyFile)
	srv := startServer(t, cfg, clk)
	if srv.url[:8] != "https://" {
		t.Fatalf("URL %s is not https", srv.url)
	}
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get(srv.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("status %d, tls %v", res.StatusCode, res.TLS)
	}
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
