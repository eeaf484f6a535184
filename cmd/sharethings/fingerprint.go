package main

import (
	"context"
	"encoding/json"
	"flag"

	"github.com/sharethings/sharethings/api"
	"github.com/sharethings/sharethings/api/client"
	"github.com/sharethings/sharethings/api/e2ee"
)

// fingerprintUsage is printed by "sharethings fingerprint -h".
const fingerprintUsage = `Usage: sharethings fingerprint -s SESSION [--name NAME]

Prints the body of a join request for SESSION (clientName, the passphrase fingerprint and
the session's kdf parameters, new ones if the session does not exist yet), so that curl can
join without doing any cryptography:

  sharethings fingerprint -s team --name curl | curl -sd @- -H 'Content-Type: application/json' \
    http://localhost:8080/api/v1/sessions/team/join
`

// joinBody is a join request as the API takes it.
type joinBody struct {
	ClientName  string          `json:"clientName"`
	Fingerprint api.Fingerprint `json:"fingerprint"`
	KDF         api.KDF         `json:"kdf"`
}

func fingerprintCmd(ctx context.Context, args []string, env cliEnv) error {
	fs := flag.NewFlagSet("fingerprint", flag.ContinueOnError)
	var f clientFlags
	f.register(fs, env)
	if err := parseClientFlags(fs, &f, args); err != nil {
		return err
	}
	pass, err := f.passphrase(env)
	if err != nil {
		return err
	}
	kdf := e2ee.NewKDF(defaultIterations)
	info, err := client.New(f.server).Session(ctx, f.session)
	switch {
	case err == nil:
		kdf = info.KDF
	case !client.IsCode(err, api.ESESSIONNOTFOUND):
		return err
	}
	keys, err := e2ee.DeriveKeys(pass, kdf)
	if err != nil {
		return err
	}
	return json.NewEncoder(env.stdout).Encode(joinBody{ClientName: f.name, Fingerprint: keys.Fingerprint(f.session), KDF: kdf})
}
