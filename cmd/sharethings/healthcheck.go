package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheck asks a running server's /healthz, for container health checks in images that
// ship no curl. Exit 0 when it answers 200.
func healthcheck(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sharethings healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", defaultHealthURL(os.Getenv("SHARETHINGS_ADDR"), os.Getenv("SHARETHINGS_TLS_CERT") != ""), "URL of /healthz")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// The server's certificate names its public host, not the loopback address asked here.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	res, err := client.Get(*url)
	if err != nil {
		fmt.Fprintf(stderr, "sharethings: healthcheck: %v\n", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "sharethings: healthcheck: %s answered %s\n", *url, res.Status)
		return 1
	}
	return 0
}

// defaultHealthURL turns a listen address such as ":8080" into a loopback URL.
func defaultHealthURL(addr string, useTLS bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || addr == "" {
		host, port = "", "8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}
