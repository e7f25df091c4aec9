// A command for `credproc exec --server` in the tests: the JS SDK v3's default credential chain
// (which reads AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN), one
// GetCallerIdentity, and the key it signed with, as one JSON line.
"use strict";
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

async function main() {
  const client = new STSClient({});
  const identity = await client.send(new GetCallerIdentityCommand({}));
  const credentials = await client.config.credentials();
  console.log(JSON.stringify({ arn: identity.Arn, key: credentials.accessKeyId }));
}

main().catch((error) => {
  console.error(`caller.js: ${error}`);
  process.exit(1);
});
