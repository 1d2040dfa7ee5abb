// Package awscli checks the AWS emulator (test/localcloud/awsemu) with the
// AWS CLI, a client independent of aws-sdk-go-v2: botocore has its own
// request serializers, response parsers and error handling. Every operation
// the emulator serves has a CLI case, run against an in-process emulator,
// whose parsed JSON output is checked; so are the main error paths of each
// wire protocol (EC2 query, AWS query, JSON 1.0 and 1.1, REST-JSON).
//
// The cases hold for any aws-cli 1.x or 2.x: SQS is checked over JSON 1.0
// or the AWS query protocol, whichever the CLI speaks (the query protocol
// before 2024), and a case for a command the CLI predates is skipped,
// naming its version. PATH=/usr/bin:$PATH make test-awscli runs Debian
// 12's aws-cli 2.9 where another aws comes first on PATH.
//
// The CLI cases run only with NODEWRIGHT_AWSCLI=1 (make test-awscli sets
// it), as each call starts a Python interpreter. The check that every
// served operation has a case needs no CLI and always runs.
package awscli
